/** @jest-environment ./src/inference/ort-jest-environment.cjs */
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.js';
import { SystemEquipmentProjection } from '../../src/projections/system-equipment.projection.js';
import { streams } from '../../src/events/streams.js';
import { GetAnomalyTrendHandler } from '../../src/queries/trend/get-anomaly-trend.handler.js';
import { GetAnomalyTrendQuery, resolveTrendParams } from '../../src/queries/trend/get-anomaly-trend.query.js';
import { compareVersions, parseProfile } from '../../src/read-side/reprojection/compare-versions.js';
import { loadScorer } from '../../src/read-side/reprojection/load-scorer.js';
import { reproject, type ReprojectionScorer } from '../../src/read-side/reprojection/reproject.js';
import { loadVersionWindows } from '../../src/read-side/reprojection/version-windows.js';
import { cycleEvents, readCycles } from '../../scripts/bench/replay-uci.js';
import { BACKENDS, createTestDatabase, type TestDatabase } from '../support/test-databases.js';
import { waitVisible } from './workload.js';

const MODELS = resolve('models');
const SAMPLE = join(MODELS, 'sample');
const START = Date.parse('2026-03-01T00:00:00Z');
const CANDIDATE = 'candidate-test';

/**
 * A temporary registry holding the real versions and a candidate copied from the active one with other ensemble
 * weights and thresholds (same ONNX files, linked).
 */
async function registryWithCandidate(): Promise<{ dir: string; base: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'models-'));
  const manifest = JSON.parse(await readFile(join(MODELS, 'manifest.json'), 'utf8'));
  const active = manifest.versions.find((v: { version: string }) => v.version === manifest.active);
  const candidate = structuredClone(active);
  candidate.version = CANDIDATE;
  // A deliberately strict candidate: H-ELM alone decides, and only at P(degraded) = 1. It must disagree with the
  // active version wherever that one names a component.
  candidate.ensemble.weights = { ...candidate.ensemble.weights, rf: 0, xgb: 0, helm: 1 };
  delete candidate.ensemble.componentWeights;
  for (const t of Object.values(candidate.ensemble.thresholds) as Record<string, unknown>[]) {
    for (const k of Object.keys(t)) if (typeof t[k] === 'number') t[k] = 1;
  }
  manifest.versions.push(candidate);
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
  for (const entry of ['hydraulic-17', 'test-vectors']) await symlink(join(MODELS, entry), join(dir, entry)).catch(() => undefined);
  return { dir, base: manifest.active };
}

async function dumpReprojection(t: TestDatabase, version: string) {
  const results = await sql<Record<string, unknown>>`select event_id, system_id, equipment_id, window_start, window_end, score, severity,
      affected_component, components, votes, confidence, is_anomaly, recorded_at
    from anomaly_results where model_version = ${version} and source = 'reprojection' order by system_id, equipment_id, window_start`.execute(t.database.db);
  const windows = await sql<Record<string, unknown>>`select * from anomaly_trend_windows
    where model_version = ${version} and source = 'reprojection' order by system_id, equipment_id, window_start`.execute(t.database.db);
  const hourly = await sql<Record<string, unknown>>`select * from anomaly_trend_hourly
    where model_version = ${version} and source = 'reprojection' order by bucket, severity, component`.execute(t.database.db);
  return { results: results.rows, windows: windows.rows, hourly: hourly.rows };
}

describe.each(BACKENDS)('re-projection with model versions on %s', (backend) => {
  let t: TestDatabase;
  let store: PostgresEventStore;
  let registry: { dir: string; base: string };
  const scorers: ReprojectionScorer[] = [];

  beforeAll(async () => {
    t = await createTestDatabase(backend);
    store = new PostgresEventStore(t.database);
    registry = await registryWithCandidate();
    const cycles = readCycles(SAMPLE);
    // Two systems: the whole sample on one, its first 20 cycles on another.
    await store.append(streams.readings('rig-1'), cycleEvents(cycles, { systemId: 'rig-1', equipmentId: 'press-1', start: START }));
    const { position } = await store.append(streams.readings('rig-2'), cycleEvents(cycles.slice(0, 20), { systemId: 'rig-2', equipmentId: 'press-9', start: START }));
    await waitVisible(store, position);
    // The systems read model as its projection leaves it: the trend query answers only for a known system.
    const events = await store.readAll({ limit: 10_000 });
    await t.database.db.transaction().execute((trx) => new SystemEquipmentProjection().apply({ trx, schema: 'public' }, events));
  });
  afterAll(async () => {
    for (const s of scorers) await s.close?.();
    await t?.dispose();
    if (registry) await rm(registry.dir, { recursive: true, force: true });
  });

  async function run(version: string) {
    const scorer = await loadScorer(registry.dir, version);
    scorers.push(scorer);
    return reproject({ database: t.database, store, scorer, flushTimeoutMs: 120_000, scoreBatch: 16 });
  }

  it('re-projecting the same history twice with the same version gives identical rows, and appends no events', async () => {
    const head = await store.headPosition();
    const first = await run(registry.base);
    const a = await dumpReprojection(t, registry.base);
    const second = await run(registry.base);
    const b = await dumpReprojection(t, registry.base);
    // 48 + 20 complete 60-s cycles; the newest window per equipment is complete too (all 60 s present).
    expect(first.windows).toBe(68);
    expect(second).toMatchObject({ windows: first.windows, anomalies: first.anomalies, samples: first.samples });
    expect(a.windows).toHaveLength(68);
    expect(b).toEqual(a);
    expect(a.results.length).toBe(first.anomalies);
    expect(await store.headPosition()).toEqual(head);
  });

  it('with a second version, compare reports where they differ, with FPR and recall from the labels', async () => {
    const cand = await run(CANDIDATE);
    expect(cand.windows).toBe(68);
    const base = await loadVersionWindows(t.database, registry.base, 'rig-1');
    const candidate = await loadVersionWindows(t.database, CANDIDATE, 'rig-1');
    expect([base.source, candidate.source]).toEqual(['reprojection', 'reprojection']);
    const labels = { cycles: parseProfile(await readFile(join(SAMPLE, 'profile.txt'), 'utf8')), start: START, cycleMs: 60_000 };
    const c = compareVersions(registry.base, CANDIDATE, base.windows, candidate.windows, labels);
    expect(c.windows).toBe(48);
    const differing = c.scopes.reduce((n, s) => n + s.onlyBase + s.onlyCandidate, 0);
    expect(differing).toBeGreaterThan(0);
    const any = c.scopes.find((s) => s.scope === 'any')!;
    expect(any.labels!.labelled).toBe(48);
    expect(any.labels!.base.recall).not.toBeNull();
    expect(any.labels!.candidate.fpr === null || any.labels!.candidate.fpr >= 0).toBe(true);

    // The trend by version answers from the re-projection.
    const trend = await new GetAnomalyTrendHandler(t.database).execute(
      new GetAnomalyTrendQuery('rig-1', resolveTrendParams({ bucket: '1d', model_version: CANDIDATE, from: '2026-03-01T00:00:00Z', to: '2026-03-02T00:00:00Z' })),
    );
    expect(trend.source).toBe('reprojection');
    expect(trend.buckets[0]!.total).toBe(candidate.windows.filter((w) => w.isAnomaly).length);
    const baseTrend = await new GetAnomalyTrendHandler(t.database).execute(
      new GetAnomalyTrendQuery('rig-1', resolveTrendParams({ bucket: '1h', model_version: registry.base, from: '2026-03-01T00:00:00Z', to: '2026-03-01T01:00:00Z' })),
    );
    expect(baseTrend.source).toBe('reprojection');
    const flagged = base.windows.filter((w) => w.isAnomaly).length;
    expect(flagged).toBeGreaterThan(0);
    expect(baseTrend.buckets[0]!.total).toBe(flagged);
  });
});
