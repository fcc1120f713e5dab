import { sql } from 'kysely';
import type { Database } from '../../database/database.js';
import type { EventStore, Position } from '../../event-store/event-store.js';
import { anomalyEventId } from '../../inference/window-anomaly-event.js';
import type { AssembledWindow, TimedSample, WindowPolicy } from '../../inference/window-assembler.js';
import { minSamplesFor, type WindowScore, type WindowScorer } from '../../inference/window-scorer.js';
import { clearReprojection, upsertTrendWindows, type TrendWindow } from '../../projections/trend-windows.writer.js';
import { HistoryWindows } from './history-windows.js';

/**
 * The scorer a re-projection needs: the saga's `WindowScorer`, optionally with a batched call. The batched call
 * gets consecutive windows of ONE equipment plus that equipment's adaptive state, and returns one result per
 * window and the state after the last (so results equal sequential `scoreWindow` calls).
 */
export interface ReprojectionScorer extends WindowScorer {
  scoreWindows?(batch: TimedSample[][], state?: unknown): Promise<{ results: WindowScore[]; state: unknown }>;
  /** Releases model sessions. */
  close?(): Promise<void>;
}

export interface ReprojectOptions {
  database: Database;
  store: EventStore;
  scorer: ReprojectionScorer;
  /** Same as the saga's (SAGA_FLUSH_TIMEOUT_MS) so the windows are the same. */
  flushTimeoutMs: number;
  minSamples?: number;
  systemId?: string;
  /** Events read per page (default 50: ~50k samples; small pages keep garbage short-lived). */
  pageSize?: number;
  /** Windows per scoring call / write transaction. */
  scoreBatch?: number;
  onProgress?: (p: { events: number; samples: number; windows: number; position: Position }) => void;
}

export interface ReprojectResult {
  modelVersion: string;
  events: number;
  samples: number;
  windows: number;
  anomalies: number;
  droppedWindows: number;
  openWindows: number;
  seconds: number;
  samplesPerSecond: number;
}

interface Pending {
  window: AssembledWindow;
  /** created_at of the event that completed the window: a deterministic recorded_at. */
  recordedAt: string;
}

/**
 * Scores the whole ReadingsIngested history with one model version (a candidate need not be active) and writes
 * the results as anomaly_results rows with source = 'reprojection' (anomalous windows, as the saga would have
 * recorded them) and as trend windows (every window, so `models compare` knows what was not flagged).
 * Appends no events. A re-run first removes the previous run of that version, so results are reproducible.
 */
export async function reproject(options: ReprojectOptions): Promise<ReprojectResult> {
  const started = performance.now();
  const { database, store, scorer } = options;
  const version = scorer.version;
  const policy: WindowPolicy = {
    windowMs: scorer.dutyCycleSeconds * 1000,
    sensors: scorer.sensors.map((s) => s.id),
    minSamples: options.minSamples ?? minSamplesFor(scorer.dutyCycleSeconds),
    flushTimeoutMs: options.flushTimeoutMs,
  };
  const scoreBatch = options.scoreBatch ?? 512;
  const history = new HistoryWindows(policy, options.systemId);
  const adaptive = new Map<string, unknown>();
  let events = 0;
  let windows = 0;
  let anomalies = 0;

  await database.db.transaction().execute(async (trx) => {
    await clearReprojection(trx, 'public', version, options.systemId);
    const systemFilter = options.systemId ? sql`and system_id = ${options.systemId}` : sql``;
    await sql`delete from anomaly_results where model_version = ${version} and source = 'reprojection' ${systemFilter}`.execute(trx);
  });

  let pending: Pending[] = [];
  let writing: Promise<void> = Promise.resolve();
  const flush = async () => {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    const scores = await scoreInOrder(scorer, batch.map((p) => p.window), adaptive);
    const trend: TrendWindow[] = [];
    const results: Record<string, unknown>[] = [];
    batch.forEach(({ window: w, recordedAt }, i) => {
      const s = scores[i]!;
      const from = new Date(w.start).toISOString();
      const to = new Date(w.end).toISOString();
      const eventId = anomalyEventId(w.systemId, w.equipmentId, w.start, version);
      trend.push({
        system_id: w.systemId,
        model_version: version,
        source: 'reprojection',
        equipment_id: w.equipmentId,
        window_start: from,
        window_end: to,
        is_anomaly: s.isAnomaly,
        severity: s.severity,
        affected_component: s.affectedComponent,
        components: s.components,
        score: s.score,
        event_id: eventId,
      });
      if (s.isAnomaly) {
        anomalies++;
        results.push({
          event_id: eventId,
          system_id: w.systemId,
          equipment_id: w.equipmentId,
          window_start: from,
          window_end: to,
          model_version: version,
          score: s.score,
          severity: s.severity,
          affected_component: s.affectedComponent,
          components: s.components,
          votes: s.votes,
          confidence: Math.min(1, Math.max(0, s.confidence)),
          operating_conditions: s.operatingConditions ?? null,
          is_anomaly: s.severity !== 'none',
          recorded_at: recordedAt,
        });
      }
    });
    windows += batch.length;
    // One write in flight while the next batch is assembled and scored (the database works on the other core);
    // writes stay in order because each waits for the previous one.
    const previous = writing;
    writing = previous.then(() => write(trend, results));
    writing.catch(() => undefined); // observed below; avoids an unhandled rejection before then
    await previous;
  };
  const write = (trend: TrendWindow[], results: Record<string, unknown>[]) =>
    database.db.transaction().execute(async (trx) => {
      await upsertTrendWindows(trx, 'public', trend);
      if (results.length === 0) return;
      // Never overwrites what production recorded for the same key (that version's saga/analysis rows win).
      await sql`
        insert into anomaly_results as r (event_id, system_id, equipment_id, window_start, window_end, model, model_version, score,
          severity, affected_component, components, votes, confidence, operating_conditions, is_anomaly, source, recorded_at)
        select event_id, system_id, equipment_id, window_start, window_end, 'ensemble', model_version, score, severity,
          affected_component, components, votes, confidence, operating_conditions, is_anomaly, 'reprojection', recorded_at
        from jsonb_to_recordset(${JSON.stringify(results)}::jsonb) as x(event_id uuid, system_id text, equipment_id text,
          window_start timestamptz, window_end timestamptz, model_version text, score double precision, severity text,
          affected_component text, components jsonb, votes jsonb, confidence double precision, operating_conditions jsonb,
          is_anomaly boolean, recorded_at timestamptz)
        on conflict (system_id, model_version, equipment_id, window_start) do update set
          event_id = excluded.event_id, window_end = excluded.window_end, score = excluded.score, severity = excluded.severity,
          affected_component = excluded.affected_component, components = excluded.components, votes = excluded.votes,
          confidence = excluded.confidence, operating_conditions = excluded.operating_conditions, is_anomaly = excluded.is_anomaly,
          recorded_at = excluded.recorded_at
        where r.source = 'reprojection'`.execute(trx);
    });

  // Page by page: short reads, no long transaction (the event store shows only events below the oldest running one).
  // The next page is read while this one is assembled and scored.
  const pageSize = options.pageSize ?? 50;
  let position: Position | undefined;
  let next = store.readAll({ limit: pageSize });
  for (;;) {
    const page = await next;
    if (page.length === 0) break;
    next = page.length < pageSize ? Promise.resolve([]) : store.readAll({ after: page[page.length - 1]!.position, limit: pageSize });
    next.catch(() => undefined); // awaited on the next turn
    events += page.length;
    const byId = new Map(page.map((e) => [e.eventId, e.createdAt]));
    for (const w of history.push(page)) {
      pending.push({ window: w, recordedAt: byId.get(w.causationId) ?? page[page.length - 1]!.createdAt });
      if (pending.length >= scoreBatch) await flush();
    }
    position = page[page.length - 1]!.position;
    options.onProgress?.({ events, samples: history.samples, windows: windows + pending.length, position });
  }
  await flush();
  await writing;

  const seconds = (performance.now() - started) / 1000;
  return {
    modelVersion: version,
    events,
    samples: history.samples,
    windows,
    anomalies,
    droppedWindows: history.dropped,
    openWindows: history.openWindows(),
    seconds,
    samplesPerSecond: history.samples / seconds,
  };
}

/**
 * Scores windows in the saga's order with each equipment's adaptive state carried from one window to the next:
 * consecutive windows of one equipment go to `scoreWindows` in one call when the scorer has it.
 */
async function scoreInOrder(scorer: ReprojectionScorer, windows: AssembledWindow[], adaptive: Map<string, unknown>): Promise<WindowScore[]> {
  const out: WindowScore[] = new Array(windows.length);
  if (scorer.scoreWindows) {
    // Group by equipment keeping each group's order; groups are independent (state is per equipment).
    const groups = new Map<string, number[]>();
    windows.forEach((w, i) => {
      const k = `${w.systemId}\u0000${w.equipmentId}`;
      (groups.get(k) ?? groups.set(k, []).get(k)!).push(i);
    });
    for (const [k, idx] of groups) {
      const { results, state } = await scorer.scoreWindows(idx.map((i) => windows[i]!.samples), adaptive.get(k));
      adaptive.set(k, state);
      idx.forEach((i, j) => (out[i] = results[j]!));
    }
    return out;
  }
  for (let i = 0; i < windows.length; i++) {
    const w = windows[i]!;
    const k = `${w.systemId}\u0000${w.equipmentId}`;
    const { result, state } = await scorer.scoreWindow(w.samples, adaptive.get(k));
    adaptive.set(k, state);
    out[i] = result;
  }
  return out;
}
