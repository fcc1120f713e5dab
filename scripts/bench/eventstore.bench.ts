/**
 * Event store benchmark (not a test): `npm run bench:eventstore`.
 * For each available adapter: single-event appends/s with 1 and 8 writers, events/s for batched appends of
 * 100, and catch-up subscription events/s. PGlite in memory; PostgreSQL on a fresh database that is
 * dropped afterwards (TEST_POSTGRES_URL or postgres://postgres@127.0.0.1:5432/postgres); EventStoreDB when
 * EVENTSTORE_URL is set. Baselines measured in the same run: the previous multi-statement append
 * (`legacy`), a plain multi-row INSERT with no checks (`raw insert`, the ceiling), and for reads one plain SELECT of the whole log parsed by node-postgres (`raw select`).
 * Each scenario: BENCH_ROUNDS (3) interleaved rounds per variant, median reported.
 * Round trips per append (requests each adapter counts itself, `roundTrips`; no timing) for fresh appends
 * and retries, on every adapter; for EventStoreDB also on the simulated server (SimulatedEsdbServer), so the
 * figure exists where no server runs.
 * Prints a table and writes bench/results/eventstore-<date>.json.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { projectRoot } from '../../src/config/paths.js';
import { createDatabase } from '../../src/database/create-database.js';
import { createScratchDatabase, type ScratchDatabase } from '../../src/database/scratch-database.js';
import type { Database } from '../../src/database/database.js';
import { migrateToLatest } from '../../src/database/migrate.js';
import type { AppendResult, EventStore, ExpectedRevision, NewEvent } from '../../src/event-store/event-store.js';
import { PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.js';
import type { RoundTrips } from '../../src/event-store/round-trips.js';

const ADMIN_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const scale = Number(process.env.BENCH_SCALE ?? 1);
const SINGLE_APPENDS = Math.round(3000 * scale);
// Per variant, split over the rounds.
const BATCHES = Math.round(300 * scale);
const BATCH = 100;
const STREAMS = 200;

const sensors = ['PS1', 'PS2', 'PS3', 'PS4', 'PS5', 'PS6', 'EPS1', 'FS1', 'FS2', 'TS1', 'TS2', 'TS3', 'TS4', 'VS1', 'CE', 'CP', 'SE'];

/** A small ReadingsIngested-like event (~600 bytes of JSON). */
function event(i: number): NewEvent {
  return {
    eventId: randomUUID(),
    type: 'ReadingsIngested',
    data: {
      batchId: randomUUID(),
      systemId: `bench-${i % STREAMS}`,
      equipmentId: 'rig-1',
      source: 'json',
      chunk: 0,
      samples: [{ ts: new Date(1_700_000_000_000 + i * 1000).toISOString(), values: Object.fromEntries(sensors.map((s, k) => [s, 100 + ((i + k) % 13)])) }],
      units: { PS1: 'bar' },
    },
    metadata: { correlationId: randomUUID(), actor: 'bench', schemaVersion: 1, occurredAt: new Date().toISOString() },
  };
}

interface Row {
  adapter: string;
  variant: string;
  scenario: string;
  ops: number;
  events: number;
  seconds: number;
  perSecond: number;
  unit: string;
}

async function timed(fn: () => Promise<number>): Promise<{ seconds: number; events: number }> {
  const t0 = process.hrtime.bigint();
  const events = await fn();
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, events };
}

/** `writers` loops share `total` single-event appends to random streams of this run's prefix. */
async function singleAppends(store: EventStore, prefix: string, total: number, writers: number): Promise<number> {
  let next = 0;
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (next < total) {
        const i = next++;
        await store.append(`${prefix}${i % STREAMS}`, [event(i)], 'any');
      }
    }),
  );
  return total;
}

async function batchedAppends(store: EventStore, prefix: string, batches: number): Promise<number> {
  for (let b = 0; b < batches; b++) {
    await store.append(`${prefix}${b % STREAMS}`, Array.from({ length: BATCH }, (_, k) => event(b * BATCH + k)), 'any');
  }
  return batches * BATCH;
}

async function catchUp(store: EventStore, expected: number, streamPrefixes?: string[]): Promise<number> {
  let seen = 0;
  const sub = store.subscribeToAll({
    batchSize: 1000,
    filter: streamPrefixes ? { streamPrefixes } : undefined,
    handler: async (batch) => {
      seen += batch.length;
    },
  });
  await sub.caughtUp;
  await sub.stop();
  if (seen < expected) throw new Error(`catch-up saw ${seen} of ${expected} events`);
  return seen;
}

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

interface Variant {
  name: string;
  store: EventStore;
  database?: Database;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * Each scenario runs ROUNDS times per variant, the variants interleaved (and rotated) within each round,
 * and the median is reported: on a shared machine whose load changes by the minute, back-to-back runs of
 * the variants compare far better than one variant after the other.
 */
async function measure(adapter: string, variants: Variant[], rows: Row[], options: { catchUp: boolean; filteredCatchUp?: boolean }): Promise<void> {
  const prefix = `bench${randomBytes(3).toString('hex')}-`;
  const samples = new Map<string, { variant: string; scenario: string; unit: string; ops: number; events: number; seconds: number[]; rates: number[] }>();
  const record = (variant: string, scenario: string, unit: string, ops: number, r: { seconds: number; events: number }) => {
    const key = `${variant}\u0000${scenario}`;
    const s = samples.get(key) ?? { variant, scenario, unit, ops: 0, events: 0, seconds: [], rates: [] };
    s.ops += ops;
    s.events += r.events;
    s.seconds.push(r.seconds);
    s.rates.push((unit === 'appends/s' ? ops : r.events) / r.seconds);
    samples.set(key, s);
    console.error(`  ${adapter.padEnd(12)} ${variant.padEnd(10)} ${scenario.padEnd(30)} ${s.rates.at(-1)!.toFixed(0).padStart(9)} ${unit}`);
  };
  // Warm-up: connections, plans, JIT of the JS side.
  for (const v of variants) await singleAppends(v.store, `${prefix}warm-`, 200, 8);
  const single = Math.max(50, Math.round(SINGLE_APPENDS / ROUNDS));
  const batches = Math.max(10, Math.round(BATCHES / ROUNDS));
  for (let round = 0; round < ROUNDS; round++) {
    const order = variants.map((_, i) => variants[(i + round) % variants.length]!);
    for (const v of order) record(v.name, 'single append, 1 writer', 'appends/s', single / 2, await timed(() => singleAppends(v.store, `${prefix}a${round}-`, single / 2, 1)));
    for (const v of order) record(v.name, 'single append, 8 writers', 'appends/s', single, await timed(() => singleAppends(v.store, `${prefix}b${round}-`, single, 8)));
    for (const v of order) record(v.name, `batched append of ${BATCH}`, 'events/s', batches, await timed(() => batchedAppends(v.store, `${prefix}c${round}-`, batches)));
  }
  if (options.catchUp) {
    const current = variants[0]!;
    let count: number;
    if (current.database) {
      // A larger log, so the read rate is not dominated by start-up.
      await batchedAppends(current.store, `${prefix}bulk-`, Math.round(500 * scale));
      count = (await sql<{ count: number }>`select count(*)::int as count from events`.execute(current.database.db)).rows[0]!.count;
    } else {
      count = 200 + ROUNDS * (single / 2 + single + batches * BATCH);
    }
    const scenario = options.filteredCatchUp ? 'catch-up (this run, filtered)' : `catch-up, ${count} events`;
    for (let round = 0; round < ROUNDS; round++) {
      record(current.name, scenario, 'events/s', 1, await timed(() => catchUp(current.store, count, options.filteredCatchUp ? [prefix] : undefined)));
      const database = current.database;
      if (database && adapter === 'postgres') {
        // Baseline: the same rows in one plain query, parsed by node-postgres (no paging, no mapping).
        record('raw select', scenario, 'events/s', 1, await timed(async () => {
          const { rows: all } = await sql`select global_position, transaction_id::text::bigint as transaction_id, stream_id,
            stream_revision, event_id, type, data, metadata, created_at from events order by events.transaction_id, events.global_position`.execute(database.db);
          return all.length;
        }));
      }
    }
  }
  for (const s of samples.values()) {
    rows.push({ adapter, variant: s.variant, scenario: s.scenario, ops: s.ops, events: s.events, seconds: s.seconds.reduce((a, b) => a + b, 0), perSecond: median(s.rates), unit: s.unit });
  }
}

/** The append of the walking skeleton (7 statements in a transaction), kept as the baseline. */
class LegacyPostgresEventStore extends PostgresEventStore {
  constructor(private readonly target: Database) {
    super(target);
  }

  override async append(streamId: string, events: readonly NewEvent[], _expected: ExpectedRevision = 'any'): Promise<AppendResult> {
    return this.target.db.transaction().execute(async (trx) => {
      await sql`insert into streams (stream_id, revision) values (${streamId}, -1) on conflict do nothing`.execute(trx);
      const locked = await sql<{ revision: number }>`select revision from streams where stream_id = ${streamId} for update`.execute(trx);
      const current = Number(locked.rows[0]!.revision);
      await sql`select event_id from events where event_id = any(${events.map((e) => e.eventId)}::uuid[])`.execute(trx);
      const rows = events.map((e, i) => ({ stream_revision: current + 1 + i, event_id: e.eventId, type: e.type, data: e.data, metadata: e.metadata }));
      const inserted = await sql<{ global_position: number }>`
        insert into events (stream_id, stream_revision, event_id, type, data, metadata)
        select ${streamId}, x.stream_revision, x.event_id, x.type, x.data, x.metadata
        from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
          as x(stream_revision bigint, event_id uuid, type text, data jsonb, metadata jsonb)
        order by x.stream_revision returning global_position`.execute(trx);
      await sql`update streams set revision = ${current + events.length} where stream_id = ${streamId}`.execute(trx);
      await sql`select pg_notify('events_appended', '')`.execute(trx);
      return { nextExpectedRevision: current + events.length, position: { commit: 0, prepare: Number(inserted.rows.at(-1)!.global_position) }, written: true };
    });
  }
}

/** The ceiling: one auto-committed multi-row INSERT, no stream lock, no idempotency check, no NOTIFY. */
class RawInsertStore extends PostgresEventStore {
  private readonly revisions = new Map<string, number>();
  constructor(private readonly target: Database) {
    super(target);
  }

  override async append(streamId: string, events: readonly NewEvent[]): Promise<AppendResult> {
    const start = this.revisions.get(streamId) ?? 0;
    this.revisions.set(streamId, start + events.length);
    const rows = events.map((e, i) => ({ stream_revision: start + i, event_id: e.eventId, type: e.type, data: e.data, metadata: e.metadata }));
    await sql`
      insert into events (stream_id, stream_revision, event_id, type, data, metadata)
      select ${streamId}, x.stream_revision, x.event_id, x.type, x.data, x.metadata
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
        as x(stream_revision bigint, event_id uuid, type text, data jsonb, metadata jsonb)`.execute(this.target.db);
    return { nextExpectedRevision: start + events.length - 1, position: { commit: 0, prepare: 0 }, written: true };
  }
}

function freshPostgres(): Promise<ScratchDatabase> {
  return createScratchDatabase(ADMIN_URL, 'bench_eventstore');
}

async function withDatabase(kind: 'pglite' | 'postgres', work: (database: Database) => Promise<void>): Promise<void> {
  if (kind === 'pglite') {
    const database = await createDatabase({ dataDir: 'memory://' });
    await migrateToLatest(database);
    try {
      await work(database);
    } finally {
      await database.close();
    }
    return;
  }
  const { url, drop } = await freshPostgres();
  const database = await createDatabase({ url, poolSize: 16 });
  try {
    await migrateToLatest(database);
    await work(database);
  } finally {
    await database.close();
    await drop();
  }
}

interface RoundTripRow {
  adapter: string;
  scenario: string;
  appends: number;
  requests: number;
  perAppend: number;
}

const ROUND_TRIP_APPENDS = 50;

/**
 * Requests sent per append, counted by the adapter (append statement, reads, the shared NOTIFY), in the
 * situations that cost differently: fresh appends, and retries at and away from the stream's end.
 */
async function measureRoundTrips(adapter: string, store: EventStore & { roundTrips: RoundTrips }, out: RoundTripRow[]): Promise<void> {
  const tag = randomUUID().slice(0, 8);
  const batchOf = (n: number, from: number) => Array.from({ length: n }, (_, k) => event(from + k));
  const scenarios: [string, (i: number) => Promise<void>, (i: number) => Promise<void>][] = [];
  const stored = new Map<number, NewEvent[]>();
  const prepare = (n: number, extra: boolean) => async (i: number) => {
    const batch = batchOf(n, i * 10);
    stored.set(i, batch);
    await store.append(`rt-${tag}-${out.length}-${i}`, batch, 'no_stream');
    if (extra) await store.append(`rt-${tag}-${out.length}-${i}`, batchOf(1, i * 10 + 5), 'any');
  };
  const retry = async (i: number) => void (await store.append(`rt-${tag}-${out.length}-${i}`, stored.get(i)!, 'any'));
  scenarios.push(['fresh append, 1 event (any)', async () => undefined, async (i) => void (await store.append(`rt-${tag}-${out.length}-${i}`, batchOf(1, i), 'any'))]);
  scenarios.push(['fresh append, 10 events (no_stream)', async () => undefined, async (i) => void (await store.append(`rt-${tag}-${out.length}-${i}`, batchOf(10, i), 'no_stream'))]);
  scenarios.push(['retry of a 1-event append at the stream end', prepare(1, false), retry]);
  scenarios.push(['retry of a 10-event append at the stream end', prepare(10, false), retry]);
  scenarios.push(['retry of a 10-event append no longer at the end', prepare(10, true), retry]);
  for (const [scenario, setup, run] of scenarios) {
    stored.clear();
    for (let i = 0; i < ROUND_TRIP_APPENDS; i++) await setup(i);
    await new Promise((r) => setTimeout(r, 20));
    store.roundTrips.reset();
    for (let i = 0; i < ROUND_TRIP_APPENDS; i++) await run(i);
    // The PostgreSQL adapter's NOTIFY goes out up to 5 ms after an append.
    await new Promise((r) => setTimeout(r, 20));
    const { appends, requests } = store.roundTrips;
    out.push({ adapter, scenario, appends, requests, perAppend: Number(store.roundTrips.perAppend.toFixed(2)) });
  }
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const roundTrips: RoundTripRow[] = [];
  const skipped: string[] = [];
  console.error(`event store benchmark (scale ${scale}; ${cpus().length} cores)`);

  try {
    await withDatabase('pglite', async (database) => {
      await measure('pglite', [{ name: 'current', store: new PostgresEventStore(database), database }], rows, { catchUp: true });
      await measureRoundTrips('pglite', new PostgresEventStore(database), roundTrips);
    });
  } catch (error) {
    skipped.push(`pglite: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    // One fresh database per variant, all open at once so the variants can be interleaved.
    await withDatabase('postgres', (current) =>
      withDatabase('postgres', (legacy) =>
        withDatabase('postgres', (raw) =>
          measure(
            'postgres',
            [
              { name: 'current', store: new PostgresEventStore(current), database: current },
              { name: 'legacy', store: new LegacyPostgresEventStore(legacy), database: legacy },
              { name: 'raw insert', store: new RawInsertStore(raw), database: raw },
            ],
            rows,
            { catchUp: true },
          ).then(() => measureRoundTrips('postgres', new PostgresEventStore(current), roundTrips)),
        ),
      ),
    );
  } catch (error) {
    skipped.push(`postgres: ${error instanceof Error ? error.message : String(error)}`);
  }

  if (process.env.EVENTSTORE_URL) {
    const { EventStoreDbEventStore } = await import('../../src/event-store/eventstoredb/eventstoredb-event-store.js');
    const store = await EventStoreDbEventStore.connect(process.env.EVENTSTORE_URL);
    try {
      await measure('eventstoredb', [{ name: 'current', store }], rows, { catchUp: true, filteredCatchUp: true });
      await measureRoundTrips('eventstoredb', store, roundTrips);
    } finally {
      await store.close();
    }
  } else {
    skipped.push('eventstoredb: EVENTSTORE_URL not set (round trips counted on the simulated server only)');
  }
  {
    const { EventStoreDbEventStore } = await import('../../src/event-store/eventstoredb/eventstoredb-event-store.js');
    const { SimulatedEsdbServer } = await import('../../src/event-store/eventstoredb/simulated-server.js');
    await measureRoundTrips('eventstoredb (simulated server)', new EventStoreDbEventStore(new SimulatedEsdbServer().client()), roundTrips);
  }

  const ratio = (scenario: string, variant: string) => {
    const cur = rows.find((r) => r.adapter === 'postgres' && r.variant === 'current' && r.scenario === scenario);
    const base = rows.find((r) => r.adapter === 'postgres' && r.variant === variant && r.scenario === scenario);
    return cur && base ? Number((cur.perSecond / base.perSecond).toFixed(2)) : null;
  };
  const scenarios = [...new Set(rows.map((r) => r.scenario))];
  const ratios: Record<string, Record<string, number | null>> = Object.fromEntries(
    scenarios
      .filter((s) => !s.startsWith('catch-up'))
      .map((s) => [s, { vsLegacy: ratio(s, 'legacy'), vsRawInsert: ratio(s, 'raw insert') }]),
  );
  for (const s of scenarios.filter((x) => x.startsWith('catch-up'))) ratios[s] = { vsRawSelect: ratio(s, 'raw select') };
  const pgRow = (s: string) => rows.find((r) => r.adapter === 'postgres' && r.variant === 'current' && r.scenario.startsWith(s))?.perSecond;
  const targets = {
    'postgres batched >= 10,000 events/s': pgRow(`batched append of ${BATCH}`),
    'postgres single append, 8 writers >= 2,000 appends/s': pgRow('single append, 8 writers'),
    'postgres catch-up >= 50,000 events/s': pgRow('catch-up'),
  };

  console.log('');
  console.log('| adapter | variant | scenario | rate | unit | events | seconds |');
  console.log('|---|---|---|---:|---|---:|---:|');
  for (const r of rows) {
    console.log(`| ${r.adapter} | ${r.variant} | ${r.scenario} | ${r.perSecond.toFixed(0)} | ${r.unit} | ${r.events} | ${r.seconds.toFixed(2)} |`);
  }
  console.log('');
  console.log('PostgreSQL current / baseline (same run):');
  for (const [s, v] of Object.entries(ratios)) {
    console.log(`  ${s}: ${Object.entries(v).map(([k, x]) => `${x ?? '-'}x ${k.replace(/^vs/, '').replace(/([A-Z])/g, ' $1').trim().toLowerCase()}`).join(', ')}`);
  }
  console.log('Targets:');
  const limits = [10_000, 2_000, 50_000];
  Object.entries(targets).forEach(([name, value], i) =>
    console.log(`  ${name}: ${value === undefined ? 'not measured' : `${value.toFixed(0)} ${value >= limits[i]! ? 'MET' : 'MISSED'}`}`),
  );
  console.log('');
  console.log('Round trips per append (requests counted by the adapter):');
  console.log('| adapter | scenario | appends | requests | per append |');
  console.log('|---|---|---:|---:|---:|');
  for (const r of roundTrips) console.log(`| ${r.adapter} | ${r.scenario} | ${r.appends} | ${r.requests} | ${r.perAppend} |`);
  for (const s of skipped) console.log(`skipped ${s}`);

  const dir = join(projectRoot(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `eventstore-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    `${JSON.stringify({ benchmark: 'eventstore', at: new Date().toISOString(), node: process.version, cores: cpus().length, scale, rows, ratios, targets, roundTrips, skipped }, null, 2)}\n`,
  );
  console.log(`results: ${file}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
