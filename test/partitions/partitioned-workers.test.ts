import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { createDatabase } from '../../src/database/create-database.js';
import type { Database } from '../../src/database/database.js';
import type { RecordedEvent } from '../../src/event-store/event-store.js';
import { PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.js';
import { ANOMALY_DETECTED, type AnomalyDetectedData } from '../../src/events/anomaly-detected.event.js';
import { newEvent } from '../../src/events/event-registry.js';
import { partitionKey } from '../../src/events/partition-key.js';
import { READINGS_INGESTED } from '../../src/events/readings-ingested.event.js';
import { streams } from '../../src/events/streams.js';
import { PostgresAdvisoryLeaseBackend } from '../../src/projections/partitions/postgres-advisory-lease-backend.js';
import { LeaseLostError, checkFence, takeFence } from '../../src/projections/partitions/lease-fence.js';
import { unitName } from '../../src/projections/partitions/unit-names.js';
import { applyBatch, readCheckpoint } from '../../src/projections/projection-runner.js';
import { SensorReadingsProjection } from '../../src/projections/sensor-readings.projection.js';
import { cycle, cycleRows } from '../e2e/inference-cycles.js';
import { spawnService, type SpawnedService } from '../support/spawn-service.js';
import { subscribersBehind } from '../support/subscribers-behind.js';
import { createPostgresDatabase, createTestDatabase, type TestDatabase } from '../support/test-databases.js';

/**
 * Issue #19, "Done when" 1: the built service as 1 API process and 3 worker processes on one PostgreSQL database,
 * P = 8. A multi-equipment load of UCI cycles (some of them degraded) is ingested in batches while workers join,
 * one leaves (SIGTERM), one is killed with SIGKILL right after a burst (its units mid-batch) and restarted. Then:
 * every reading projected once with the values sent, every window scored once and flagged exactly as one ROLE=all
 * process flags the same input, the dead worker's leases taken over within the lease bound, fence epochs only grow.
 * A focused case proves the write-level fence: a worker that lost its lease cannot commit its batch in hand.
 */
const MODELS_DIR = resolve('models');
const PARTITIONS = 8;
const LEASE_INTERVAL_MS = 300;
const SYSTEMS = ['north-press', 'south-press', 'east-pumps'];
const EQUIPMENT_PER_SYSTEM = 4;
const BATCHES = 16;
/** Sample rows (models/sample): healthy ones (43-45, 35-37) and degraded ones among them. */
const ORDER = [43, 44, 45, 35, 36, 37, 41, 43, 2, 44, 31, 45, 39, 36, 20, 44];
const T0 = Date.parse('2026-06-01T06:00:00.000Z');
/** Slack on top of the lease bound for a loaded 2-core machine (the bound itself is asserted generously). */
const LOAD_SLACK_MS = 10_000;

const EQUIPMENT = SYSTEMS.flatMap((system) => Array.from({ length: EQUIPMENT_PER_SYSTEM }, (_, i) => [system, `unit-${i + 1}`] as const));

/** Batch b: one cycle of every equipment (12 x 60 s x 17 sensors), each equipment on its own rotation of ORDER. */
function batch(b: number) {
  const rows = EQUIPMENT.flatMap(([system, equipment], k) => cycleRows(cycle(ORDER[(b + 3 * k) % ORDER.length]!), system, equipment, T0 + b * 60_000));
  return { key: `workers-batch-${b}`, body: JSON.stringify(rows), rows: rows.length };
}

/** What sensor_readings must hold: one row per (system, equipment, ts) with the values sent. */
function expectedReadings(): Map<string, Record<string, number>> {
  const out = new Map<string, Record<string, number>>();
  for (let b = 0; b < BATCHES; b++) {
    EQUIPMENT.forEach(([system, equipment], k) => {
      const c = cycle(ORDER[(b + 3 * k) % ORDER.length]!);
      for (let s = 0; s < 60; s++) {
        const ts = new Date(T0 + b * 60_000 + s * 1000).toISOString();
        out.set(`${system}/${equipment}/${ts}`, Object.fromEntries(Object.entries(c.values).map(([sensor, v]) => [sensor, v[s]!])));
      }
    });
  }
  return out;
}

interface HttpResult {
  status: number;
  body: string;
  retryAfter: number;
}

function http(port: number, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<HttpResult> {
  return new Promise((resolvePromise, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method, headers: body === undefined ? headers : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers } },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, body: text, retryAfter: Number(res.headers['retry-after'] ?? 1) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** As a client is told to: a 503 (backpressure while the workers catch up on a loaded machine) is sent again after Retry-After, same key. */
async function ingest(port: number, b: number): Promise<{ accepted: number; retries: number }> {
  const { key, body } = batch(b);
  for (let attempt = 1; ; attempt++) {
    const res = await http(port, 'POST', '/api/v1/ingest', body, { 'idempotency-key': key });
    if (res.status === 200) return { accepted: JSON.parse(res.body).accepted, retries: attempt - 1 };
    if (res.status !== 503 || attempt === 60) throw new Error(`ingest of batch ${b}: ${res.status} ${res.body.slice(0, 500)}`);
    await sleep(Math.min(5, Math.max(1, res.retryAfter)) * 1000);
  }
}

interface PartitionsCheck {
  partitions: number;
  role: string;
  worker?: string;
  workers?: number;
  units?: number;
  held: number;
  leases?: string[];
  rebalances?: number;
}

/** The `partitions` check of /health/ready (200 or 503: a worker still catching up reports it too; auth is off). */
async function partitionsOf(port: number): Promise<PartitionsCheck> {
  const res = await http(port, 'GET', '/health/ready');
  const parsed = JSON.parse(res.body) as { details?: { partitions?: PartitionsCheck }; checks?: { partitions?: PartitionsCheck } };
  const check = parsed.details?.partitions ?? parsed.checks?.partitions;
  if (!check) throw new Error(`no partitions check in /health/ready (${res.status}): ${res.body.slice(0, 300)}`);
  return check;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined | false>, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last error: ${String(last)})` : ''}`);
    await sleep(everyMs);
  }
}

/** Every unit has a checkpoint at the log head, twice in a row with the same head (the saga's own appends land above the first). */
async function caughtUp(db: Database, units: number, timeoutMs: number, label: string): Promise<void> {
  let previous = '';
  let state = '';
  await until(`${label}: every checkpoint at the head`, timeoutMs, async () => {
    const { head, checkpoints, behind } = await subscribersBehind(db.db);
    const now = JSON.stringify(head);
    const at = checkpoints.length >= units && behind.length === 0;
    const done = at && now === previous;
    previous = at ? now : '';
    state = `${checkpoints.length}/${units} checkpoints, behind head ${now}: ${JSON.stringify(behind)}`;
    return done;
  }, 500).catch((error: Error) => {
    throw new Error(`${error.message}; ${state}`);
  });
}

interface Outcome {
  anomalies: string[];
  anomalyIds: string[];
  results: string[];
  hourly: string[];
  readings: string[];
  scored: { scored: number; dropped: number; open: number };
  perEquipment: string[];
}

/** The log's decisions and the read models that must come out the same however the work was spread. */
async function outcome(db: Database): Promise<Outcome> {
  const store = new PostgresEventStore(db, { applySnapshotRule: false });
  const events = await store.readAll({ filter: { eventTypes: [ANOMALY_DETECTED] }, limit: 100_000 });
  const anomalies = events.map((e) => {
    const d = e.data as AnomalyDetectedData;
    return `${d.systemId}/${d.equipmentId}/${d.window.from}/${d.severity}/${d.affectedComponent}`;
  });
  const { rows: results } = await sql<{ k: string }>`
    select system_id || '/' || equipment_id || '/' || to_char(window_start at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || '/' || severity || '/' || event_id as k
    from anomaly_results order by 1`.execute(db.db);
  const { rows: hourly } = await sql<{ k: string }>`
    select system_id || '/' || bucket::text || '/' || severity || '/' || component || '/' || anomalies as k from anomaly_trend_hourly order by 1`.execute(db.db);
  const { rows: readings } = await sql<{ k: string }>`
    select system_id || '/' || equipment_id || '/' || count(*) || '/' || md5(string_agg(sensor_values::text, ',' order by ts)) as k
    from sensor_readings group by system_id, equipment_id order by 1`.execute(db.db);
  const { rows: scored } = await sql<{ scored: number; dropped: number; open: number }>`
    select (select coalesce(sum(scored_windows), 0)::int from inference_equipment) as scored,
           (select coalesce(sum(dropped_windows), 0)::int from inference_equipment) as dropped,
           (select count(*)::int from inference_windows) as open`.execute(db.db);
  const { rows: perEquipment } = await sql<{ k: string }>`
    select system_id || '/' || equipment_id || '/' || scored_windows || '/' || dropped_windows as k from inference_equipment order by 1`.execute(db.db);
  return {
    anomalies: anomalies.sort(),
    anomalyIds: events.map((e) => e.eventId).sort(),
    results: results.map((r) => r.k),
    hourly: hourly.map((r) => r.k),
    readings: readings.map((r) => r.k),
    scored: scored[0]!,
    perEquipment: perEquipment.map((r) => r.k),
  };
}

beforeAll(async () => {
  // The processes run the build: it must be the code under test.
  await promisify(execFile)('npm', ['run', 'build:server', '--silent']);
}, 180_000);

describe('partitioned workers: 1 API + 3 worker processes on PostgreSQL (issue #19)', () => {
  const scratch: { url: string; drop: () => Promise<void> }[] = [];
  const services: SpawnedService[] = [];
  const databases: Database[] = [];
  let sampler: NodeJS.Timeout | undefined;

  afterAll(async () => {
    clearInterval(sampler);
    for (const s of services) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
    await Promise.all(services.map((s) => s.exited));
    for (const d of databases) await d.close().catch(() => undefined);
    for (const s of scratch) await s.drop();
  });

  function start(env: Record<string, string>): SpawnedService {
    const service = spawnService({ MODELS_DIR, PROJECTION_BATCH_SIZE: '2', ...env });
    services.push(service);
    return service;
  }

  async function stop(service: SpawnedService, signal: 'SIGTERM' | 'SIGKILL'): Promise<number | null> {
    service.child.kill(signal);
    return (await service.exited).code;
  }

  it('scores every window and projects every reading once while workers join, leave and are killed; leases move within the bound', async () => {
    const started = Date.now();
    const phases: string[] = [];
    const phase = (what: string) => {
      phases.push(`${what} ${((Date.now() - started) / 1000).toFixed(1)} s`);
    };

    // The reference: the same input through ONE ROLE=all process (P = 1) on its own database.
    const refDb = await createPostgresDatabase();
    scratch.push(refDb);
    const ref = start({ DATABASE_URL: refDb.url, ROLE: 'all' });
    const refPort = await ref.port(120_000);
    phase('reference up');
    for (let b = 0; b < BATCHES; b++) await ingest(refPort, b);
    const refDatabase = await createDatabase({ url: refDb.url, poolSize: 2 });
    databases.push(refDatabase);
    const refUnits = (await partitionsOf(refPort)).units!;
    phase('reference ingested');
    await caughtUp(refDatabase, refUnits, 180_000, 'reference');
    expect(await stop(ref, 'SIGTERM')).toBe(0);
    const expected = await outcome(refDatabase);
    const referenceMs = Date.now() - started;
    phase('reference caught up');

    // The distributed run: P = 8 on a fresh database.
    const mainDb = await createPostgresDatabase();
    scratch.push(mainDb);
    const common = { DATABASE_URL: mainDb.url, PARTITIONS: String(PARTITIONS), LEASE_INTERVAL_MS: String(LEASE_INTERVAL_MS) };
    const api = start({ ...common, ROLE: 'api' });
    const apiPort = await api.port(120_000);
    const database = await createDatabase({ url: mainDb.url, poolSize: 3 });
    databases.push(database);
    const db = database.db;

    // Fence epochs, sampled throughout: they may only grow, and an owner change comes with a new epoch.
    const seen = new Map<string, { epoch: number; owner: string }>();
    const fenceViolations: string[] = [];
    let sampling = false;
    const sample = async () => {
      if (sampling) return;
      sampling = true;
      try {
        const { rows } = await sql<{ name: string; epoch: string; owner: string }>`select name, epoch, owner from lease_fences`.execute(db);
        for (const r of rows) {
          const before = seen.get(r.name);
          const epoch = Number(r.epoch);
          if (before && (epoch < before.epoch || (epoch === before.epoch && r.owner !== before.owner))) {
            fenceViolations.push(`${r.name}: ${before.epoch}/${before.owner} -> ${epoch}/${r.owner}`);
          }
          seen.set(r.name, { epoch, owner: r.owner });
        }
      } catch {
        /* a sample lost to load is only a gap */
      } finally {
        sampling = false;
      }
    };
    sampler = setInterval(() => void sample(), 100);

    const workerA = start({ ...common, ROLE: 'worker' });
    const workerB = start({ ...common, ROLE: 'worker' });
    const [portA, portB] = await Promise.all([workerA.port(120_000), workerB.port(120_000)]);
    const ports = new Map<SpawnedService, number>([[workerA, portA], [workerB, portB]]);
    const unitsTotal = (await partitionsOf(portA)).units!;
    let accepted = 0;
    let retries = 0;
    const send = async (b: number) => {
      const r = await ingest(apiPort, b);
      accepted += r.accepted;
      retries += r.retries;
    };
    /** Every unit held by exactly one of these workers (each worker's own view, from its /health/ready). */
    const balanced = (workers: SpawnedService[]) =>
      until(`leases spread over ${workers.length} workers`, 60_000, async () => {
        const checks = await Promise.all(workers.map((w) => partitionsOf(ports.get(w)!)));
        const all = checks.flatMap((c) => c.leases ?? []);
        const share = Math.ceil(unitsTotal / workers.length);
        const ok = all.length === unitsTotal && new Set(all).size === unitsTotal && checks.every((c) => c.held <= share && c.workers === workers.length);
        return ok ? checks : undefined;
      }, 200);

    for (let b = 0; b < 4; b++) await send(b);
    phase('workers A, B up; batches 0-3 sent');

    // A worker joins: the others hand over their surplus.
    const workerC = start({ ...common, ROLE: 'worker' });
    ports.set(workerC, await workerC.port(120_000));
    for (let b = 4; b < 7; b++) await send(b);
    await balanced([workerA, workerB, workerC]);
    phase('C joined, balanced');

    // A worker leaves gracefully during a burst: it finishes its batches in hand and releases its leases.
    const sending7 = send(7);
    const leftB = (await partitionsOf(portB)).leases ?? [];
    const leaveAt = Date.now();
    expect(await stop(workerB, 'SIGTERM')).toBe(0);
    ports.delete(workerB);
    await sending7;
    await until('the leaving worker\'s leases taken over', 60_000, async () => {
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from lease_fences where name in (${sql.join(leftB)}) and acquired_at > ${new Date(leaveAt)}`.execute(db);
      return rows[0]!.n === leftB.length;
    }, 50);
    const handoverMs = Date.now() - leaveAt;
    phase('B left, handed over');
    for (let b = 8; b < 10; b++) await send(b);

    // It comes back (a new process, a new worker id).
    const workerB2 = start({ ...common, ROLE: 'worker' });
    ports.set(workerB2, await workerB2.port(120_000));
    await balanced([workerA, workerB2, workerC]);
    phase('B2 joined, balanced');
    await send(10);

    // SIGKILL mid-batch: right after a burst was accepted, while its units are processing it.
    await send(11);
    const cView = await partitionsOf(ports.get(workerC)!);
    const victim = cView.worker!;
    const { rows: fencedToC } = await sql<{ name: string }>`select name from lease_fences where owner = ${victim}`.execute(db);
    const victimLeases = [...new Set([...(cView.leases ?? []), ...fencedToC.map((r) => r.name)])].sort();
    // Units of the victim with events of their own partition still unprocessed at the kill (its work in hand).
    const { rows: pending } = await sql<{ name: string }>`
      select c.name from lease_fences f
        join projection_checkpoints c on c.name = f.name
       where f.owner = ${victim} and c.name like '%#%/${sql.raw(String(PARTITIONS))}'
         and exists (select 1 from events e
                      where e.type = ${READINGS_INGESTED}
                        and e.partition_key % ${PARTITIONS}::int = split_part(split_part(c.name, '#', 2), '/', 1)::int
                        and (e.transaction_id::text::bigint, e.global_position) > (c.commit_position, c.prepare_position))`.execute(db);
    const killAt = Date.now();
    workerC.child.kill('SIGKILL');
    ports.delete(workerC);
    const inFlight = pending.length;
    await workerC.exited;
    const sending12 = send(12);
    const takeover = await until('the killed worker\'s leases taken over', 120_000, async () => {
      const { rows } = await sql<{ name: string; owner: string; acquired_at: Date }>`
        select name, owner, acquired_at from lease_fences where name in (${sql.join(victimLeases)})`.execute(db);
      if (rows.length !== victimLeases.length || rows.some((r) => r.owner === victim)) return undefined;
      return { detectedMs: Date.now() - killAt, takenMs: Math.max(...rows.map((r) => new Date(r.acquired_at).getTime())) - killAt, owners: new Set(rows.map((r) => r.owner)).size };
    }, 50);
    await sending12;
    phase('C killed, taken over');
    await send(13);

    // It is restarted: three workers again.
    const workerC2 = start({ ...common, ROLE: 'worker' });
    ports.set(workerC2, await workerC2.port(120_000));
    for (let b = 14; b < BATCHES; b++) await send(b);
    const finalViews = await balanced([workerA, workerB2, workerC2]);
    phase('C2 joined, all sent, balanced');

    await caughtUp(database, unitsTotal, 180_000, 'workers');
    phase('workers caught up');
    await sample();
    clearInterval(sampler);
    const rebalances = finalViews.reduce((n, v) => n + (v.rebalances ?? 0), 0);
    const logged = (msg: string) => services.reduce((n, s) => n + s.lines.filter((l) => l.msg === msg).length, 0);
    const claimedLines = logged('leases claimed');
    const lostLines = logged('leases lost');
    const exits = await Promise.all([workerA, workerB2, workerC2, api].map((s) => stop(s, 'SIGTERM')));
    const got = await outcome(database);

    // Every reading projected exactly once, with the values sent.
    const sent = expectedReadings();
    expect(accepted).toBe(BATCHES * EQUIPMENT.length * 60 * 17);
    const { rows: stored } = await sql<{ system_id: string; equipment_id: string; ts: Date; sensor_values: Record<string, number> }>`
      select system_id, equipment_id, ts, sensor_values from sensor_readings`.execute(db);
    expect(stored).toHaveLength(sent.size);
    let mismatched = 0;
    for (const r of stored) {
      const want = sent.get(`${r.system_id}/${r.equipment_id}/${new Date(r.ts).toISOString()}`);
      if (!want || JSON.stringify(Object.entries(r.sensor_values).sort()) !== JSON.stringify(Object.entries(want).sort())) mismatched++;
    }
    expect(mismatched).toBe(0);
    expect(got.readings).toEqual(expected.readings);

    // Every window scored exactly once, and flagged exactly as the single process flags it.
    const windows = BATCHES * EQUIPMENT.length;
    expect(expected.scored).toEqual({ scored: windows, dropped: 0, open: 0 });
    expect(got.scored).toEqual({ scored: windows, dropped: 0, open: 0 });
    expect(got.perEquipment).toEqual(expected.perEquipment);
    expect(new Set(got.anomalies.map((a) => a.split('/').slice(0, 3).join('/'))).size).toBe(got.anomalies.length);
    expect(new Set(got.anomalyIds).size).toBe(got.anomalyIds.length);
    expect(expected.anomalies.length).toBeGreaterThan(0);
    expect(expected.anomalies.length).toBeLessThan(windows);
    expect(got.anomalies).toEqual(expected.anomalies);
    expect(got.anomalyIds).toEqual(expected.anomalyIds);
    expect(got.results).toEqual(expected.results);
    const { rows: dupResults } = await sql<{ n: number }>`
      select count(*)::int as n from (select 1 from anomaly_results group by system_id, equipment_id, window_start having count(*) > 1) d`.execute(db);
    expect(dupResults[0]!.n).toBe(0);
    // The trend counts anomalies: a batch applied twice would count them twice.
    expect(got.hourly).toEqual(expected.hourly);

    // Takeover within the lease bound (the backend's own figure for this LEASE_INTERVAL_MS) plus one round.
    const bound = new PostgresAdvisoryLeaseBackend(mainDb.url, { heartbeatMs: LEASE_INTERVAL_MS }).leaseBoundMs + LEASE_INTERVAL_MS;
    expect(victimLeases.length).toBeGreaterThan(0);
    expect(takeover.takenMs).toBeLessThanOrEqual(bound + LOAD_SLACK_MS);
    // The kill hit work in hand: some of its units had not reached the head of the log.
    expect(inFlight).toBeGreaterThan(0);

    // Fencing: epochs only grew; every lease ended with exactly one holder; every process stopped cleanly.
    expect(fenceViolations).toEqual([]);
    expect(seen.size).toBe(unitsTotal);
    expect(claimedLines).toBeGreaterThan(0);
    expect(exits).toEqual([0, 0, 0, 0]);
    // The partitions really spread the equipment.
    expect(new Set(EQUIPMENT.map(([s, e]) => partitionKey(s, e) % PARTITIONS)).size).toBeGreaterThan(4);

    const { rows: epochs } = await sql<{ max: number; sum: number }>`select max(epoch)::int as max, sum(epoch)::int as sum from lease_fences`.execute(db);
    const load = (await promisify(execFile)('uptime')).stdout.trim();
    console.log(
      [
        'partitioned workers (issue #19): 1 API + 3 workers, P = %d, LEASE_INTERVAL_MS = %d, %d units',
        '  readings: %d rows sent, %d sensor_readings rows (%d values), 0 mismatched; ingest 503 retries %d',
        '  windows: %d scored (reference %d), %d anomalies (reference %d), anomaly_results %d',
        '  graceful leave: %d leases handed over in %d ms',
        '  SIGKILL: %d leases (%d of them behind the head at the kill) taken over by %d workers: fences taken %d ms after the kill, seen %d ms; bound %d ms (+%d ms slack asserted)',
        '  rebalances (final workers) %d; log lines "leases claimed" %d, "leases lost" %d; fence takes %d (max epoch %d); epoch violations %d',
        '  time: reference run %d s, whole test %d s; %s',
        '  phases: %s',
      ].join('\n'),
      PARTITIONS, LEASE_INTERVAL_MS, unitsTotal,
      accepted, stored.length, stored.length * 17, retries,
      got.scored.scored, expected.scored.scored, got.anomalies.length, expected.anomalies.length, got.results.length,
      leftB.length, handoverMs,
      victimLeases.length, inFlight, takeover.owners, takeover.takenMs, takeover.detectedMs, bound, LOAD_SLACK_MS,
      rebalances, claimedLines, lostLines, epochs[0]!.sum, epochs[0]!.max, fenceViolations.length,
      Math.round(referenceMs / 1000), Math.round((Date.now() - started) / 1000), load,
      phases.join('; '),
    );
  }, 600_000);
});

/**
 * "No partition processed by two workers at once", at the write level: a worker that lost its lease (its session was
 * ended, or a newer holder took the fence) and then commits the batch it had in hand is refused with LeaseLostError,
 * and the read model and checkpoint show only the new holder's writes.
 */
describe('the lease fence refuses a write of a worker that lost its lease (postgres)', () => {
  let tdb: TestDatabase;
  const backends: PostgresAdvisoryLeaseBackend[] = [];

  // A fresh database per case: each starts with no fence and no checkpoint.
  beforeEach(async () => {
    tdb = await createTestDatabase('postgres');
  });
  afterEach(async () => {
    for (const b of backends.splice(0)) await b.close();
    await tdb?.dispose();
  });

  /** Six ReadingsIngested events of one equipment (10 samples each), read back as its partition of 2 sees them. */
  async function seed(equipmentId: string) {
    const store = new PostgresEventStore(tdb.database, { applySnapshotRule: false });
    const systemId = 'fence-rig';
    const slot = { index: partitionKey(systemId, equipmentId) % 2, count: 2 };
    const t0 = Date.parse('2026-07-01T00:00:00.000Z');
    for (let e = 0; e < 6; e++) {
      const samples = Array.from({ length: 10 }, (_, s) => ({ ts: new Date(t0 + (e * 10 + s) * 1000).toISOString(), values: { PS1: e * 100 + s } }));
      const data = { batchId: randomUUID(), systemId, equipmentId, source: 'json' as const, chunk: 0, samples, units: { PS1: 'bar' } };
      await store.append(streams.readings(systemId), [newEvent(READINGS_INGESTED, randomUUID(), data, { correlationId: randomUUID() })], 'any');
    }
    const events = (await store.readAll({ filter: { partition: slot }, limit: 100 })).filter((e) => (e.data as { equipmentId?: string }).equipmentId === equipmentId);
    expect(events).toHaveLength(6);
    return { systemId, slot, events, name: unitName('sensor_readings', slot) };
  }

  async function joined(): Promise<{ backend: PostgresAdvisoryLeaseBackend; lost: string[] }> {
    const backend = new PostgresAdvisoryLeaseBackend(tdb.url!, { heartbeatMs: 100 });
    backends.push(backend);
    const lost: string[] = [];
    await backend.start((names) => lost.push(...names));
    return { backend, lost };
  }

  async function readingsOf(systemId: string, equipmentId: string): Promise<string[]> {
    const { rows } = await sql<{ ts: Date }>`select ts from sensor_readings where system_id = ${systemId} and equipment_id = ${equipmentId} order by ts`.execute(tdb.database.db);
    return rows.map((r) => new Date(r.ts).toISOString());
  }

  const tsOf = (events: RecordedEvent[]) => events.flatMap((e) => (e.data as { samples: { ts: string }[] }).samples.map((s) => s.ts));

  it.each([
    ['its lease session is terminated (pg_terminate_backend)', 'terminated', 'press-t'],
    ['a newer holder takes the fence while it still believes it holds the lease', 'fenced', 'press-f'],
  ])('when %s, its batch in hand is refused and only the new holder writes', async (_title, how, equipmentId) => {
    const db = tdb.database.db;
    const projection = new SensorReadingsProjection();
    const { systemId, slot, events, name } = await seed(equipmentId);

    // Worker 1 holds the lease and has read all six events as its batch in hand.
    const w1 = await joined();
    expect(await w1.backend.tryAcquire(name)).toBe(true);
    const fence1 = await takeFence(db, name, w1.backend.workerId);
    const inHand = events;

    const w2 = await joined();
    if (how === 'terminated') {
      expect(await w2.backend.tryAcquire(name)).toBe(false);
      // Its session ends (a network cut, a server-side kill): the lock goes with it, and worker 1 hears of it.
      // (Found by the lease lock it holds: its application_name is cut at 63 bytes, worker id and all.)
      const { rows: ended } = await sql<{ ok: boolean }>`
        select pg_terminate_backend(pid) as ok from pg_locks
         where locktype = 'advisory' and granted and classid = ${0x19_0001}::int::oid and objsubid = 2
           and database = (select oid from pg_database where datname = current_database())`.execute(db);
      expect(ended).toEqual([{ ok: true }]);
      await until('worker 2 gets the lease', 10_000, () => w2.backend.tryAcquire(name), 20);
      await until('worker 1 hears its lease is lost', 10_000, async () => w1.lost.includes(name), 20);
    }
    // With 'fenced', worker 1 still holds its advisory lock and does not know: only the fence stands in its way.
    const fence2 = await takeFence(db, name, w2.backend.workerId);
    expect(fence2.epoch).toBe(fence1.epoch + 1);

    // Worker 2 resumes from the stored checkpoint (none) and commits the first three events.
    expect(await readCheckpoint(db, name)).toBeUndefined();
    await applyBatch(db, projection, events.slice(0, 3), 'public', name, { fence: fence2, slot });

    // Worker 1 now commits its batch in hand: refused, nothing of it lands.
    await expect(applyBatch(db, projection, inHand, 'public', name, { fence: fence1, slot })).rejects.toBeInstanceOf(LeaseLostError);
    expect(await readingsOf(systemId, equipmentId)).toEqual(tsOf(events.slice(0, 3)));
    expect(await readCheckpoint(db, name)).toEqual(events[2]!.position);

    // Worker 2 carries on from its own checkpoint.
    await applyBatch(db, projection, events.slice(3), 'public', name, { fence: fence2, slot });
    expect(await readingsOf(systemId, equipmentId)).toEqual(tsOf(events));
    expect(await readCheckpoint(db, name)).toEqual(events[5]!.position);
  });

  it('a commit that checked its fence before the takeover finishes first; the new holder starts after it', async () => {
    const db = tdb.database.db;
    const projection = new SensorReadingsProjection();
    const { slot, events, name } = await seed('press-o');
    const w1 = await joined();
    expect(await w1.backend.tryAcquire(name)).toBe(true);
    const fence1 = await takeFence(db, name, w1.backend.workerId);

    // Worker 1's write transaction passed its fence check and is still open when worker 2 takes the fence.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let checked!: () => void;
    const hasChecked = new Promise<void>((r) => (checked = r));
    const writing = db.transaction().execute(async (trx) => {
      await checkFence(trx, fence1);
      checked();
      await held;
      await projection.apply({ trx, schema: 'public', slot }, events.slice(0, 4));
      await sql`insert into projection_checkpoints (name, commit_position, prepare_position, updated_at)
        values (${name}, ${events[3]!.position.commit}, ${events[3]!.position.prepare}, now())`.execute(trx);
    });
    await hasChecked;
    let taken = false;
    const taking = takeFence(db, name, 'worker-2').then((f) => ((taken = true), f));
    await sleep(300);
    // The takeover waits for the commit in flight.
    expect(taken).toBe(false);
    release();
    await writing;
    const fence2 = await taking;
    expect(fence2.epoch).toBe(fence1.epoch + 1);
    // So the new holder reads the checkpoint after that commit, and the old holder's next write is refused.
    expect(await readCheckpoint(db, name)).toEqual(events[3]!.position);
    await expect(applyBatch(db, projection, events.slice(4), 'public', name, { fence: fence1, slot })).rejects.toBeInstanceOf(LeaseLostError);
    await applyBatch(db, projection, events.slice(4), 'public', name, { fence: fence2, slot });
    expect(await readCheckpoint(db, name)).toEqual(events[5]!.position);
  });
});

