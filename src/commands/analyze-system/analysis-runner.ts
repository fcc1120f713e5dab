import { sql } from 'kysely';
import type { Database } from '../../database/database.js';
import type { EventStore } from '../../event-store/event-store.js';
import {
  ANALYSIS_COMPLETED,
  ANALYSIS_FAILED,
  type AnalysisCompletedData,
} from '../../events/analysis.events.js';
import type { AnomalyDetectedData } from '../../events/anomaly-detected.event.js';
import { streams } from '../../events/streams.js';
import { metrics } from '../../observability/metrics.js';
import { anomalyDetectedEvent, appendAnomaly } from '../../inference/window-anomaly-event.js';
import {
  addChunk,
  emptyEquipment,
  flushAll,
  windowStartOf,
  type TimedSample,
  type WindowOutcome,
  type WindowPolicy,
} from '../../inference/window-assembler.js';
import { minSamplesFor, type WindowScorer } from '../../inference/window-scorer.js';
import type { AnalysisJobData } from './analysis-job.js';
import { analysisCompleted, analysisFailed, analysisProgressed, analysisStarted } from './decide-analysis.js';

export interface AnalysisOutcome {
  status: 'completed' | 'failed';
  counts: AnalysisCompletedData | undefined;
  /** Anomalies found by this run (empty when the analysis had finished before). */
  anomalies: (AnomalyDetectedData & { eventId: string; alreadyRecorded: boolean })[];
  dropped: number;
}

const PROGRESS_EVERY = 50;

/**
 * Scores the stored readings of a range with the same window assembly and ensemble as the saga and
 * records what it finds. Idempotent, so the queue may redeliver it: an analysis whose outcome is already
 * in its stream is not run again, every AnomalyDetected has the saga's deterministic id (a window the
 * saga already decided is counted as alreadyRecorded, never appended twice), and the outcome event id is fixed.
 */
export class AnalysisRunner {
  constructor(
    private readonly database: Database,
    private readonly store: EventStore,
    private readonly scorer: WindowScorer,
  ) {}

  async run(job: AnalysisJobData, attempt: number, heartbeat: () => void = () => undefined): Promise<AnalysisOutcome> {
    const finished = await this.outcomeOf(job.analysisId);
    if (finished) return finished;
    if (job.modelVersion !== this.scorer.version) {
      throw new Error(`model version ${job.modelVersion} is not loaded (loaded: ${this.scorer.version})`);
    }
    const meta = { correlationId: job.correlationId, causationId: job.requestedEventId, actor: job.actor };
    const started = Date.now();
    const policy: WindowPolicy = {
      windowMs: this.scorer.dutyCycleSeconds * 1000,
      sensors: this.scorer.sensors.map((s) => s.id),
      minSamples: minSamplesFor(this.scorer.dutyCycleSeconds),
      flushTimeoutMs: 0,
    };
    const outcomes = await this.assemble(job, policy);
    const stream = streams.analysis(job.analysisId);
    await this.store.append(stream, [analysisStarted(job.analysisId, job.systemId, attempt, outcomes.length, meta)]);

    const anomalies: AnalysisOutcome['anomalies'] = [];
    let windows = 0;
    let dropped = 0;
    let alreadyRecorded = 0;
    // Each equipment starts from a fresh adaptive state: an analysis of a range must not depend on when it runs.
    const adaptive = new Map<string, unknown>();
    for (let i = 0; i < outcomes.length; i++) {
      const outcome = outcomes[i]!;
      if (outcome.kind === 'dropped') dropped++;
      else {
        const w = outcome.window;
        const scored = await this.scorer.scoreWindow(w.samples, adaptive.get(w.equipmentId));
        adaptive.set(w.equipmentId, scored.state);
        windows++;
        if (scored.result.isAnomaly) {
          const event = anomalyDetectedEvent(w, scored.result, { ...meta, analysisId: job.analysisId });
          const appended = await appendAnomaly(this.store, event);
          if (appended === 'already') alreadyRecorded++;
          else metrics.anomaliesDetected.inc({ severity: event.data.severity, component: event.data.affectedComponent ?? 'none' });
          anomalies.push({ ...event.data, eventId: event.eventId, alreadyRecorded: appended === 'already' });
        }
      }
      if ((i + 1) % PROGRESS_EVERY === 0 && i + 1 < outcomes.length) {
        heartbeat();
        await this.store.append(stream, [analysisProgressed(job.analysisId, job.systemId, attempt, i + 1, outcomes.length, meta)]);
      }
    }
    const counts: AnalysisCompletedData = {
      analysisId: job.analysisId,
      systemId: job.systemId,
      windows,
      anomalies: anomalies.length,
      alreadyRecorded,
      durationMs: Date.now() - started,
    };
    await this.store.append(stream, [analysisCompleted(counts, meta)]);
    return { status: 'completed', counts, anomalies, dropped };
  }

  /** Records the failure (once; a later outcome append is a no-op). */
  async fail(job: AnalysisJobData, attempts: number, error: unknown): Promise<void> {
    const message = error instanceof Error ? error.message : String(error);
    await this.store.append(streams.analysis(job.analysisId), [
      analysisFailed(
        { analysisId: job.analysisId, systemId: job.systemId, error: message.slice(0, 2000), attempts: Math.max(1, attempts) },
        { correlationId: job.correlationId, causationId: job.requestedEventId, actor: job.actor },
      ),
    ]);
  }

  private async outcomeOf(analysisId: string): Promise<AnalysisOutcome | undefined> {
    const events = await this.store.readStream(streams.analysis(analysisId));
    const done = events.find((e) => e.type === ANALYSIS_COMPLETED || e.type === ANALYSIS_FAILED);
    if (!done) return undefined;
    return done.type === ANALYSIS_COMPLETED
      ? { status: 'completed', counts: done.data as AnalysisCompletedData, anomalies: [], dropped: 0 }
      : { status: 'failed', counts: undefined, anomalies: [], dropped: 0 };
  }

  /** Readings of the range, per equipment, cut into the saga's windows; every window is final here (no more data comes). */
  private async assemble(job: AnalysisJobData, policy: WindowPolicy): Promise<WindowOutcome[]> {
    const from = windowStartOf(Date.parse(job.from), policy.windowMs);
    const to = Date.parse(job.to);
    const { rows } = await sql<{ equipment_id: string; ts: Date; sensor_values: Record<string, number>; event_id: string }>`
      select equipment_id, ts, sensor_values, event_id from sensor_readings
      where system_id = ${job.systemId} and ts >= ${new Date(from).toISOString()}::timestamptz and ts < ${new Date(to).toISOString()}::timestamptz
      order by equipment_id, ts`.execute(this.database.db);
    const perEquipment = new Map<string, { samples: Map<number, TimedSample>; sources: Map<number, Set<string>> }>();
    for (const r of rows) {
      let e = perEquipment.get(r.equipment_id);
      if (!e) perEquipment.set(r.equipment_id, (e = { samples: new Map(), sources: new Map() }));
      const t = new Date(r.ts).getTime();
      e.samples.set(t, { ts: new Date(t).toISOString(), values: r.sensor_values });
      const start = windowStartOf(t, policy.windowMs);
      let set = e.sources.get(start);
      if (!set) e.sources.set(start, (set = new Set()));
      set.add(r.event_id);
    }
    const outcomes: WindowOutcome[] = [];
    for (const [equipmentId, e] of [...perEquipment].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const state = emptyEquipment(job.systemId, equipmentId);
      const chunk = { eventId: job.requestedEventId, correlationId: job.correlationId, createdAt: 0, samples: [...e.samples.values()] };
      const { outcomes: complete } = addChunk(state, chunk, policy);
      // Windows that begin before `to` but end after it are cut off by the range: analysed only if complete.
      const rest = flushAll(state, policy).filter((o) => o.kind === 'ready' ? o.window.end <= to : o.start + policy.windowMs <= to);
      for (const o of [...complete, ...rest].sort((a, b) => startOf(a) - startOf(b))) {
        if (o.kind === 'ready') o.window.sourceEventIds = [...(e.sources.get(o.window.start) ?? [])].sort();
        outcomes.push(o);
      }
    }
    return outcomes;
  }
}

function startOf(o: WindowOutcome): number {
  return o.kind === 'ready' ? o.window.start : o.start;
}
