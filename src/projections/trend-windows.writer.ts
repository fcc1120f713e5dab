import { sql, type Kysely } from 'kysely';
import type { Tables } from '../database/tables.js';
import '../read-side/read-side.tables.js';

/** One scored window as the trend/health read model stores it. */
export interface TrendWindow {
  system_id: string;
  model_version: string;
  source: 'live' | 'reprojection';
  equipment_id: string;
  window_start: string;
  window_end: string;
  is_anomaly: boolean;
  severity: string;
  affected_component: string | null;
  components: Record<string, unknown>;
  score: number;
  event_id: string | null;
}

const HOUR_MS = 3_600_000;
const ROWS_PER_STATEMENT = 2000;

export function hourBucket(iso: string): string {
  return new Date(Math.floor(Date.parse(iso) / HOUR_MS) * HOUR_MS).toISOString();
}

function key(w: { system_id: string; model_version: string; source: string; equipment_id: string; window_start: string }): string {
  return [w.system_id, w.model_version, w.source, w.equipment_id, new Date(w.window_start).toISOString()].join('\u0000');
}

function rollupKey(w: { system_id: string; model_version: string; source: string; window_start: string | Date; severity: string; affected_component: string | null }): string {
  return [w.system_id, w.model_version, w.source, hourBucket(new Date(w.window_start).toISOString()), w.severity, w.affected_component ?? ''].join(
    '\u0000',
  );
}

/**
 * Upserts windows and moves the hourly rollup by the difference (old row out, new row in), so the rollup always
 * equals `count(*) ... group by hour` over the window table, whatever order or repetition the input has.
 * Deterministic: same rows in the same order give the same tables. Feedback already recorded is kept.
 * `first-wins` keeps the first decision per window (live events, like anomaly_results); `last-wins` replaces it.
 */
export async function upsertTrendWindows(
  trx: Kysely<Tables>,
  schema: string,
  input: readonly TrendWindow[],
  mode: 'first-wins' | 'last-wins' = 'last-wins',
): Promise<void> {
  const latest = new Map<string, TrendWindow>();
  for (const w of input) {
    if (mode === 'first-wins' && latest.has(key(w))) continue;
    latest.set(key(w), { ...w, window_start: new Date(w.window_start).toISOString(), window_end: new Date(w.window_end).toISOString() });
  }
  const all = [...latest.values()];
  const windows = sql.table(`${schema}.anomaly_trend_windows`);
  const hourly = sql.table(`${schema}.anomaly_trend_hourly`);
  for (let i = 0; i < all.length; i += ROWS_PER_STATEMENT) {
    let chunk = all.slice(i, i + ROWS_PER_STATEMENT);
    let json = JSON.stringify(chunk);
    const { rows: old } = await sql<{
      system_id: string;
      model_version: string;
      source: string;
      equipment_id: string;
      window_start: Date;
      severity: string;
      affected_component: string | null;
      is_anomaly: boolean;
    }>`
      select w.system_id, w.model_version, w.source, w.equipment_id, w.window_start, w.severity, w.affected_component, w.is_anomaly
      from ${windows} w
      join jsonb_to_recordset(${json}::jsonb) as x(system_id text, model_version text, source text, equipment_id text, window_start timestamptz)
        on w.system_id = x.system_id and w.model_version = x.model_version and w.source = x.source
       and w.equipment_id = x.equipment_id and w.window_start = x.window_start`.execute(trx);

    if (mode === 'first-wins' && old.length > 0) {
      // A window already recorded keeps its first decision (as anomaly_results does): drop the repeats.
      const stored = new Set(old.map((o) => key({ ...o, window_start: new Date(o.window_start).toISOString() })));
      chunk = chunk.filter((w) => !stored.has(key(w)));
      if (chunk.length === 0) continue;
      json = JSON.stringify(chunk);
      old.length = 0;
    }
    const deltas = new Map<string, number>();
    for (const o of old) if (o.is_anomaly) deltas.set(rollupKey(o), (deltas.get(rollupKey(o)) ?? 0) - 1);
    for (const n of chunk) if (n.is_anomaly) deltas.set(rollupKey(n), (deltas.get(rollupKey(n)) ?? 0) + 1);

    await sql`
      insert into ${windows} (system_id, model_version, source, equipment_id, window_start, window_end, is_anomaly,
        severity, affected_component, components, score, event_id)
      select system_id, model_version, source, equipment_id, window_start, window_end, is_anomaly,
        severity, affected_component, components, score, event_id
      from jsonb_to_recordset(${json}::jsonb) as x(system_id text, model_version text, source text, equipment_id text,
        window_start timestamptz, window_end timestamptz, is_anomaly boolean, severity text, affected_component text,
        components jsonb, score double precision, event_id uuid)
      on conflict (system_id, model_version, source, equipment_id, window_start) do update set
        window_end = excluded.window_end, is_anomaly = excluded.is_anomaly, severity = excluded.severity,
        affected_component = excluded.affected_component, components = excluded.components, score = excluded.score,
        event_id = excluded.event_id`.execute(trx);

    // In key order: partitions of this projection update shared hourly rows concurrently, and one lock order
    // for all of them means they wait for each other instead of deadlocking.
    const changes = [...deltas.entries()]
      .filter(([, d]) => d !== 0)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, d]) => {
        const [system_id, model_version, source, bucket, severity, component] = k.split('\u0000');
        return { system_id, model_version, source, bucket, severity, component, d };
      });
    if (changes.length === 0) continue;
    const changesJson = JSON.stringify(changes);
    await sql`
      insert into ${hourly} as h (system_id, model_version, source, bucket, severity, component, anomalies)
      select system_id, model_version, source, bucket, severity, component, d
      from jsonb_to_recordset(${changesJson}::jsonb) as x(system_id text, model_version text, source text,
        bucket timestamptz, severity text, component text, d bigint)
      on conflict (system_id, bucket, model_version, source, severity, component)
      do update set anomalies = h.anomalies + excluded.anomalies`.execute(trx);
    // A bucket that dropped to zero disappears: the rollup holds exactly the non-empty groups.
    await sql`
      delete from ${hourly} h using jsonb_to_recordset(${changesJson}::jsonb) as x(system_id text, model_version text,
        source text, bucket timestamptz, severity text, component text)
      where h.anomalies = 0 and h.system_id = x.system_id and h.model_version = x.model_version and h.source = x.source
        and h.bucket = x.bucket and h.severity = x.severity and h.component = x.component`.execute(trx);
  }
}

/** Removes every window (and its rollup) of one re-projected version, so a re-run starts from nothing. */
export async function clearReprojection(trx: Kysely<Tables>, schema: string, modelVersion: string, systemId?: string): Promise<void> {
  const system = systemId === undefined ? sql`` : sql`and system_id = ${systemId}`;
  await sql`delete from ${sql.table(`${schema}.anomaly_trend_windows`)} where model_version = ${modelVersion} and source = 'reprojection' ${system}`.execute(trx);
  await sql`delete from ${sql.table(`${schema}.anomaly_trend_hourly`)} where model_version = ${modelVersion} and source = 'reprojection' ${system}`.execute(trx);
}
