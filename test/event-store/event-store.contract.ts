import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decideIngest } from '../../src/commands/ingest-readings/decide-ingest.js';
import type { ParsedBatch, ValidRow } from '../../src/commands/ingest-readings/parse-batch.js';
import {
  comparePositions,
  DuplicateEventIdError,
  WrongExpectedRevisionError,
  type EventMetadata,
  type EventStore,
  type NewEvent,
  type Position,
  type RecordedEvent,
  type Subscription,
} from '../../src/event-store/event-store.js';
import { partitionKey, partitionOf } from '../../src/events/partition-key.js';
import { MAX_SAMPLES_PER_EVENT, type ReadingsIngestedData } from '../../src/events/readings-ingested.event.js';

/**
 * The one contract every event store adapter passes. Each adapter's test file calls `eventStoreContract`
 * with a factory; the tests never assume an empty log (EventStoreDB is shared between runs), so every test
 * writes to its own stream prefix and reads the global log relative to the head it saw first.
 */
export interface StoreUnderTest {
  store: EventStore;
  /** A new store instance on the same log, as after a process restart. */
  reopen(): Promise<EventStore>;
  /**
   * A store whose appends commit slowly and out of sequence order (PostgreSQL: pg_sleep inside the append
   * transaction). Used by the writers of the contention test; defaults to `store`.
   */
  contended?(): Promise<EventStore>;
  /** Cuts the store's connections as a server restart would (PostgreSQL: pg_terminate_backend). */
  cutConnections?(): Promise<void>;
  dispose(): Promise<void>;
}

export type StoreFactory = () => Promise<StoreUnderTest>;

export interface ContractOptions {
  /** Concurrent writers in the contention test. */
  writers?: number;
  /** Appends per writer in the contention test. */
  appendsPerWriter?: number;
  /** The factory's stores can have their connections cut (`cutConnections`); otherwise that case is skipped. */
  connectionsCanBeCut?: boolean;
}

const meta = (extra: Partial<EventMetadata> = {}): EventMetadata => ({
  correlationId: randomUUID(),
  schemaVersion: 1,
  occurredAt: new Date().toISOString(),
  ...extra,
});

function event(type = 'ContractTested', data: Record<string, unknown> = {}, metadata?: Partial<EventMetadata>): NewEvent {
  return { eventId: randomUUID(), type, data: { ...data }, metadata: meta(metadata) };
}

const events = (n: number, type?: string) => Array.from({ length: n }, (_, i) => event(type, { i }));
const ids = (list: readonly { eventId: string }[]) => list.map((e) => e.eventId);
const prefix = () => `ct${randomUUID().replace(/-/g, '').slice(0, 12)}-`;

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Reads every event after `after` matching the stream prefix, page by page. */
async function readAllOf(store: EventStore, streamPrefix: string, after: Position | undefined): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  let cursor = after;
  for (;;) {
    const page = await store.readAll({ after: cursor, limit: 500, filter: { streamPrefixes: [streamPrefix] } });
    out.push(...page);
    if (page.length < 500) return out;
    cursor = page[page.length - 1]!.position;
  }
}

/**
 * `readAllOf` once at least `count` events are readable. Readers may see a commit late, never out of order:
 * the PostgreSQL adapter reads only below the oldest running write transaction of the whole cluster, and
 * the test server is shared with other test databases.
 */
async function readAllVisible(store: EventStore, streamPrefix: string, after: Position | undefined, count: number): Promise<RecordedEvent[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const read = await readAllOf(store, streamPrefix, after);
    if (read.length >= count || Date.now() > deadline) return read;
    await new Promise((r) => setTimeout(r, 25));
  }
}

function expectStrictlyIncreasing(positions: Position[]): void {
  for (let i = 1; i < positions.length; i++) {
    if (comparePositions(positions[i - 1]!, positions[i]!) >= 0) {
      throw new Error(`positions not strictly increasing at ${i}: ${JSON.stringify(positions[i - 1])} then ${JSON.stringify(positions[i])}`);
    }
  }
}

/** Collects what a subscription hands over. */
function collector() {
  const received: RecordedEvent[] = [];
  let caughtUpCalls = 0;
  let failure: unknown;
  return {
    received,
    get caughtUpCalls() {
      return caughtUpCalls;
    },
    get failure() {
      return failure;
    },
    options: {
      handler: async (batch: RecordedEvent[]) => {
        received.push(...batch);
      },
      onCaughtUp: () => {
        caughtUpCalls++;
      },
      onError: (error: unknown) => {
        failure = error;
      },
    },
  };
}

export function eventStoreContract(name: string, factory: StoreFactory, options: ContractOptions = {}): void {
  const writers = options.writers ?? 8;
  const appendsPerWriter = options.appendsPerWriter ?? 25;

  describe(`event store contract: ${name}`, () => {
    let sut: StoreUnderTest;
    let store: EventStore;
    beforeAll(async () => {
      sut = await factory();
      store = sut.store;
      // PGlite (WASM) start-up plus migrations can take long on a busy 2-core machine.
    }, 180_000);
    afterAll(async () => {
      await sut?.dispose();
    });

    describe('expected revision', () => {
      it('no_stream creates a stream once, then fails with the actual revision', async () => {
        const s = `${prefix()}a`;
        const first = await store.append(s, events(2), 'no_stream');
        expect(first).toMatchObject({ nextExpectedRevision: 1, written: true });
        const error = await rejection(store.append(s, events(1), 'no_stream'));
        expect(error).toBeInstanceOf(WrongExpectedRevisionError);
        expect(error).toMatchObject({ streamId: s, expected: 'no_stream', actual: 1 });
        expect(await store.readStream(s)).toHaveLength(2);
      });

      it('stream_exists fails on a missing stream and passes on an existing one', async () => {
        const s = `${prefix()}b`;
        const error = await rejection(store.append(s, events(1), 'stream_exists'));
        expect(error).toBeInstanceOf(WrongExpectedRevisionError);
        expect(error).toMatchObject({ streamId: s, expected: 'stream_exists', actual: -1 });
        expect(await store.readStream(s)).toEqual([]);
        await store.append(s, events(1), 'no_stream');
        expect(await store.append(s, events(2), 'stream_exists')).toMatchObject({ nextExpectedRevision: 2, written: true });
      });

      it('an exact revision must match the last revision of the stream', async () => {
        const s = `${prefix()}c`;
        const missing = await rejection(store.append(s, events(1), 3));
        expect(missing).toMatchObject({ name: 'WrongExpectedRevisionError', expected: 3, actual: -1 });
        const r0 = await store.append(s, events(2), 'no_stream');
        const r1 = await store.append(s, events(1), r0.nextExpectedRevision);
        expect(r1.nextExpectedRevision).toBe(2);
        const stale = await rejection(store.append(s, events(1), r0.nextExpectedRevision));
        expect(stale).toBeInstanceOf(WrongExpectedRevisionError);
        expect(stale).toMatchObject({ expected: 1, actual: 2 });
        const ahead = await rejection(store.append(s, events(1), 7));
        expect(ahead).toMatchObject({ expected: 7, actual: 2 });
        expect((await store.readStream(s)).map((e) => e.revision)).toEqual([0, 1, 2]);
      });

      it('any appends whether or not the stream exists', async () => {
        const s = `${prefix()}d`;
        expect((await store.append(s, events(1), 'any')).nextExpectedRevision).toBe(0);
        expect((await store.append(s, events(3))).nextExpectedRevision).toBe(3);
      });

      it('only one of two racing writers with the same expected revision wins', async () => {
        const s = `${prefix()}e`;
        const { nextExpectedRevision } = await store.append(s, events(1), 'no_stream');
        const results = await Promise.allSettled([
          store.append(s, events(1), nextExpectedRevision),
          store.append(s, events(1), nextExpectedRevision),
        ]);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
        expect(failed.reason).toBeInstanceOf(WrongExpectedRevisionError);
        expect(await store.readStream(s)).toHaveLength(2);
      });
    });

    describe('idempotent append', () => {
      it('appending the same event ids again adds nothing and reports written: false', async () => {
        const p = prefix();
        const s = `${p}a`;
        const head = await store.headPosition();
        const batch = events(3);
        const first = await store.append(s, batch, 'no_stream');
        expect(first.written).toBe(true);
        // The retry of a request whose answer was lost: same ids, same expected revision.
        const retry = await store.append(s, batch, 'no_stream');
        expect(retry).toEqual({ ...first, written: false });
        const retryAny = await store.append(s, batch, 'any');
        expect(retryAny).toEqual({ ...first, written: false });
        expect(ids(await store.readStream(s))).toEqual(ids(batch));
        expect(ids(await readAllVisible(store, p, head, batch.length))).toEqual(ids(batch));
        // The stream moves on normally after a retry.
        expect((await store.append(s, events(1), first.nextExpectedRevision)).nextExpectedRevision).toBe(3);
      });

      it('an append that repeats only some stored ids is rejected and writes nothing', async () => {
        const s = `${prefix()}b`;
        const batch = events(2);
        await store.append(s, batch, 'no_stream');
        const error = await rejection(store.append(s, [batch[1]!, event()], 'any'));
        expect(error).toBeInstanceOf(DuplicateEventIdError);
        expect(ids(await store.readStream(s))).toEqual(ids(batch));
      });

      it('an `any` append overlapping stored events away from the stream’s end is rejected and writes nothing', async () => {
        const s = `${prefix()}c`;
        const batch = events(2);
        await store.append(s, batch, 'no_stream');
        const later = events(1);
        await store.append(s, later, 1);
        for (const expected of ['any', 'stream_exists'] as const) {
          const error = await rejection(store.append(s, [batch[1]!, event()], expected));
          expect(error).toBeInstanceOf(DuplicateEventIdError);
        }
        expect(ids(await store.readStream(s))).toEqual(ids([...batch, ...later]));
      });

      it('an append whose last id ends the stream but whose other ids were never stored is rejected', async () => {
        const s = `${prefix()}d`;
        const [a, b] = [event(), event()];
        await store.append(s, [event(), b!], 'no_stream');
        const error = await rejection(store.append(s, [a!, b!], 'any'));
        expect(error).toBeInstanceOf(DuplicateEventIdError);
        expect(ids(await store.readStream(s))).not.toContain(a!.eventId);
      });

      it('a retried append that is no longer at the stream’s end answers written: false with the original result', async () => {
        const s = `${prefix()}e`;
        const batch = events(2);
        const first = await store.append(s, batch, 'no_stream');
        await store.append(s, events(1), first.nextExpectedRevision);
        expect(await store.append(s, batch, 'any')).toEqual({ ...first, written: false });
        expect(await store.append(s, batch, 'no_stream')).toEqual({ ...first, written: false });
        expect(await store.readStream(s)).toHaveLength(3);
      });

      it('compares event ids as UUIDs: the same ids in upper case are the same append', async () => {
        const s = `${prefix()}f`;
        const batch = events(2);
        const first = await store.append(s, batch, 'no_stream');
        const upper = batch.map((e) => ({ ...e, eventId: e.eventId.toUpperCase() }));
        expect(await store.append(s, upper, 'any')).toEqual({ ...first, written: false });
        expect(ids(await store.readStream(s))).toEqual(ids(batch));
      });
    });

    describe('reading a stream', () => {
      let s: string;
      let all: NewEvent[];
      beforeAll(async () => {
        s = `${prefix()}read`;
        all = events(10);
        await store.append(s, all.slice(0, 4), 'no_stream');
        await store.append(s, all.slice(4), 3);
      });

      it('reads forwards in revision order', async () => {
        const read = await store.readStream(s);
        expect(read.map((e) => e.revision)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        expect(ids(read)).toEqual(ids(all));
        expect(read.every((e) => e.streamId === s)).toBe(true);
      });

      it('reads from a revision with a limit', async () => {
        expect((await store.readStream(s, { fromRevision: 3, limit: 4 })).map((e) => e.revision)).toEqual([3, 4, 5, 6]);
        expect((await store.readStream(s, { fromRevision: 8, limit: 100 })).map((e) => e.revision)).toEqual([8, 9]);
        expect(await store.readStream(s, { fromRevision: 10 })).toEqual([]);
      });

      it('reads backwards, from a revision, with a limit', async () => {
        expect((await store.readStream(s, { direction: 'backwards' })).map((e) => e.revision)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
        expect((await store.readStream(s, { direction: 'backwards', limit: 2 })).map((e) => e.revision)).toEqual([9, 8]);
        expect((await store.readStream(s, { direction: 'backwards', fromRevision: 5, limit: 3 })).map((e) => e.revision)).toEqual([5, 4, 3]);
      });

      it('reads a missing stream as empty', async () => {
        expect(await store.readStream(`${prefix()}none`)).toEqual([]);
        expect(await store.readStream(`${prefix()}none`, { direction: 'backwards' })).toEqual([]);
      });
    });

    describe('reading all', () => {
      it('reads the global log from a position, with a limit and filters', async () => {
        const p = prefix();
        const head = await store.headPosition();
        const written: NewEvent[] = [];
        for (const [stream, batch] of [
          ['x', events(2, 'Alpha')],
          ['y', events(1, 'Beta')],
          ['x', events(3, 'Beta')],
        ] as const) {
          await store.append(`${p}${stream}`, batch);
          written.push(...batch);
        }
        const read = await readAllVisible(store, p, head, written.length);
        expect(ids(read)).toEqual(ids(written));
        expectStrictlyIncreasing(read.map((e) => e.position));
        // The unfiltered log holds the same events in the same relative order.
        const unfiltered = (await store.readAll({ after: head, limit: 10_000 })).filter((e) => e.streamId.startsWith(p));
        expect(ids(unfiltered)).toEqual(ids(written));

        const afterSecond = await store.readAll({ after: read[1]!.position, limit: 2, filter: { streamPrefixes: [p] } });
        expect(ids(afterSecond)).toEqual(ids(written.slice(2, 4)));
        const betas = await store.readAll({ after: head, filter: { streamPrefixes: [p], eventTypes: ['Beta'] } });
        expect(ids(betas)).toEqual(ids(written.slice(2)));
        const onlyY = await store.readAll({ after: head, filter: { streamPrefixes: [`${p}y`] } });
        expect(ids(onlyY)).toEqual(ids(written.slice(2, 3)));
        // A position returned by append is a valid checkpoint: reading after it skips that append.
        const last = read[read.length - 1]!;
        expect(await store.readAll({ after: last.position, filter: { streamPrefixes: [p] } })).toEqual([]);
      });

      it('the append result position is the position of the append’s last event', async () => {
        const p = prefix();
        const before = await store.headPosition();
        const r = await store.append(`${p}a`, events(3));
        const read = await store.readStream(`${p}a`);
        expect(read[2]!.position).toEqual(r.position);
        await readAllVisible(store, p, before, 3);
        const head = await store.headPosition();
        expect(head).toBeDefined();
        expect(comparePositions(head!, r.position)).toBeGreaterThanOrEqual(0);
      });
    });

    describe('partitions', () => {
      it('a filter naming one partition of P yields the events whose key falls in it plus every keyless one, on reads and subscriptions', async () => {
        const p = prefix();
        const head = await store.headPosition();
        const P = 3;
        const systemId = `${p}sys`;
        const slotOf = (equipmentId: string) => partitionOf(partitionKey(systemId, equipmentId), P);
        // Enough equipments that every partition gets some (checked below, so the case cannot pass vacuously).
        const equipments = Array.from({ length: 12 }, (_, i) => `rig-${i}`);
        const keyed = equipments.map((equipmentId) => event('Keyed', { systemId, equipmentId }, { extra: 'kept' }));
        const keyless = [event('Keyless', { systemId }), event('Keyless', {})];
        const written = [keyless[0]!, ...keyed.slice(0, 6), ...keyed.slice(6), keyless[1]!];
        await store.append(`${p}a`, written.slice(0, 7));
        await store.append(`${p}b`, written.slice(7));
        const inSlot = (e: NewEvent, index: number) => e.type === 'Keyless' || slotOf((e.data as { equipmentId: string }).equipmentId) === index;
        const all = await readAllVisible(store, p, head, written.length);
        expect(ids(all)).toEqual(ids(written));

        const subscriptions = [];
        for (let index = 0; index < P; index++) {
          const filter = { streamPrefixes: [p], partition: { index, count: P } };
          const read = await store.readAll({ after: head, filter });
          expect(ids(read)).toEqual(ids(written.filter((e) => inSlot(e, index))));
          expect(read.filter((e) => e.type === 'Keyed').length).toBeGreaterThan(0);
          // The key is the store's business: metadata reads back exactly as appended.
          for (const e of read) expect(e.metadata).toEqual(written.find((x) => x.eventId === e.eventId)!.metadata);
          const c = collector();
          subscriptions.push({ index, c, sub: store.subscribeToAll({ after: head, filter, batchSize: 2, ...c.options }) });
        }
        // One partition of one is the whole log.
        expect(ids(await store.readAll({ after: head, filter: { streamPrefixes: [p], partition: { index: 0, count: 1 } } }))).toEqual(ids(written));

        await Promise.all(subscriptions.map((s) => s.sub.caughtUp));
        const live = Array.from({ length: P }, (_, index) => event('Keyed', { systemId, equipmentId: equipments.find((q) => slotOf(q) === index)! }));
        const liveKeyless = event('Keyless', {});
        await store.append(`${p}live`, [...live, liveKeyless]);
        for (const { index, c, sub } of subscriptions) {
          const want = [...written, ...live, liveKeyless].filter((e) => inSlot(e, index));
          await until(() => c.received.length >= want.length, 30_000, `partition ${index}'s live events`);
          await sub.stop();
          expect(ids(c.received)).toEqual(ids(want));
          expect(c.failure).toBeUndefined();
        }
      });
    });

    describe('bounded subscription', () => {
      it('`until` (inclusive): hands over nothing past it and its position reaches it, also for a partition whose own events end earlier', async () => {
        const p = prefix();
        const head = await store.headPosition();
        const systemId = `${p}sys`;
        const P = 2;
        const slotOf = (equipmentId: string) => partitionOf(partitionKey(systemId, equipmentId), P);
        const rigs = Array.from({ length: 12 }, (_, i) => `rig-${i}`);
        const mine = rigs.filter((q) => slotOf(q) === 0);
        const theirs = rigs.filter((q) => slotOf(q) === 1);
        expect(mine.length && theirs.length).toBeTruthy();
        // Partition 0's last event before the bound is followed by partition 1's, which is the bound itself.
        const before = [event('Keyed', { systemId, equipmentId: mine[0] }), event('Keyed', { systemId, equipmentId: theirs[0] })];
        const bound = await store.append(`${p}a`, before);
        const past = [event('Keyed', { systemId, equipmentId: mine[1] }), event('Keyed', { systemId, equipmentId: theirs[1] })];
        await store.append(`${p}b`, past);
        await readAllVisible(store, p, head, 4);

        const whole = collector();
        const part = collector();
        const subs = [
          store.subscribeToAll({ after: head, until: bound.position, filter: { streamPrefixes: [p] }, ...whole.options }),
          store.subscribeToAll({ after: head, until: bound.position, filter: { streamPrefixes: [p], partition: { index: 0, count: P } }, ...part.options }),
        ];
        await Promise.all(subs.map((s) => s.caughtUp));
        await until(() => subs.every((s) => s.position !== undefined && comparePositions(s.position, bound.position) === 0), 30_000, 'both at the bound');
        // Live events past the bound are not handed over either.
        await store.append(`${p}c`, [event('Keyed', { systemId, equipmentId: mine[2] ?? mine[0] })]);
        await readAllVisible(store, p, head, 5);
        await new Promise((r) => setTimeout(r, 200));
        await Promise.all(subs.map((s) => s.stop()));
        expect(ids(whole.received)).toEqual(ids(before));
        expect(ids(part.received)).toEqual(ids(before.slice(0, 1)));
        expect(subs.map((s) => s.position)).toEqual([bound.position, bound.position]);
        expect(whole.failure ?? part.failure).toBeUndefined();
      });
    });

    describe('metadata', () => {
      it('round-trips correlationId, causationId, actor, schemaVersion, occurredAt and extra keys', async () => {
        const p = prefix();
        const head = await store.headPosition();
        const metadata: EventMetadata = {
          correlationId: randomUUID(),
          causationId: randomUUID(),
          actor: 'key-auditor-7',
          schemaVersion: 2,
          occurredAt: '2025-03-04T05:06:07.089Z',
          modelVersion: 'hydraulic-17@1.2.0',
          extra: { nested: [1, 'two', null] },
        };
        const e: NewEvent = { eventId: randomUUID(), type: 'MetadataTested', data: { text: 'Grüße ✓', n: 1.5, nil: null }, metadata };
        await store.append(`${p}m`, [e], 'no_stream');
        const [fromStream] = await store.readStream(`${p}m`);
        const [fromAll] = await readAllVisible(store, p, head, 1);
        for (const read of [fromStream!, fromAll!]) {
          expect(read.eventId).toBe(e.eventId);
          expect(read.type).toBe('MetadataTested');
          expect(read.data).toEqual(e.data);
          expect(read.metadata).toEqual(metadata);
          expect(Number.isNaN(Date.parse(read.createdAt))).toBe(false);
        }
      });
    });

    describe('large events and batches', () => {
      it('appends an ingest batch of 10,000 samples as bounded events in one atomic append', async () => {
        const systemId = `${prefix()}sys`.replace(/-$/, '');
        const t0 = Date.parse('2025-01-01T00:00:00Z');
        const valid: ValidRow[] = [];
        for (let i = 0; i < 10_000; i++) {
          const ts = new Date(t0 + i * 1000).toISOString();
          valid.push({ row: 2 * i + 1, system_id: systemId, equipment_id: 'rig-1', sensor_id: 'PS1', ts, v: 100 + (i % 7), unit: 'bar' } as ValidRow);
          valid.push({ row: 2 * i + 2, system_id: systemId, equipment_id: 'rig-1', sensor_id: 'TS1', ts, v: 40 + (i % 3) } as ValidRow);
        }
        const batch: ParsedBatch = { valid, rejected: [] };
        const ctx = { batchId: randomUUID(), source: 'json' as const, correlationId: randomUUID(), actor: 'contract', occurredAt: new Date().toISOString() };
        const appends = decideIngest(batch, ctx);
        expect(appends).toHaveLength(1);
        const { streamId, events: chunked } = appends[0]!;
        expect(chunked).toHaveLength(10);

        // Atomic: a failing append of the whole batch leaves nothing behind.
        await store.append(streamId, [event('Marker')], 'no_stream');
        const refused = await rejection(store.append(streamId, chunked, 'no_stream'));
        expect(refused).toBeInstanceOf(WrongExpectedRevisionError);
        expect(await store.readStream(streamId)).toHaveLength(1);

        const result = await store.append(streamId, chunked, 0);
        expect(result).toMatchObject({ nextExpectedRevision: 10, written: true });
        const read = (await store.readStream(streamId)).slice(1);
        expect(read.map((e) => e.revision)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        expect(ids(read)).toEqual(ids(chunked));
        const data = read.map((e) => e.data as ReadingsIngestedData);
        expect(data.every((d) => d.samples.length <= MAX_SAMPLES_PER_EVENT)).toBe(true);
        expect(data.map((d) => d.chunk)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        expect(data.reduce((n, d) => n + d.samples.length, 0)).toBe(10_000);
        expect(data[9]!.samples[999]).toEqual({ ts: new Date(t0 + 9_999_000).toISOString(), values: { PS1: 100 + (9_999 % 7), TS1: 40 + (9_999 % 3) } });
        // The same request retried (deterministic ids) is an idempotent no-op.
        expect((await store.append(streamId, decideIngest(batch, ctx)[0]!.events, 'any')).written).toBe(false);
        expect(await store.readStream(streamId)).toHaveLength(11);
      });

      it('appends 1,000 events in one call with contiguous revisions and increasing positions', async () => {
        const s = `${prefix()}many`;
        const many = events(1000);
        const r = await store.append(s, many, 'no_stream');
        expect(r.nextExpectedRevision).toBe(999);
        const read = await store.readStream(s);
        expect(read.map((e) => e.revision)).toEqual(many.map((_, i) => i));
        expectStrictlyIncreasing(read.map((e) => e.position));
      });
    });

    describe('catch-up subscription', () => {
      it('catches up from a checkpoint, signals caught-up, goes live, and resumes after a restart without gaps or duplicates', async () => {
        const p = prefix();
        const head = await store.headPosition();
        const historic = events(5);
        await store.append(`${p}a`, historic.slice(0, 3));
        await store.append(`${p}b`, historic.slice(3));

        const c1 = collector();
        const sub1 = store.subscribeToAll({ after: head, filter: { streamPrefixes: [p] }, batchSize: 2, ...c1.options });
        await sub1.caughtUp;
        expect(ids(c1.received)).toEqual(ids(historic));
        expect(c1.caughtUpCalls).toBe(1);

        const live = events(3);
        await store.append(`${p}a`, live.slice(0, 2));
        await store.append(`${p}c`, live.slice(2));
        await until(() => c1.received.length >= 8, 30_000, 'live events');
        await sub1.stop();
        const saved = sub1.position!;
        expect(saved).toEqual(c1.received[c1.received.length - 1]!.position);
        expect(c1.caughtUpCalls).toBe(1);

        // Written while no subscriber runs.
        const whileDown = events(4);
        await store.append(`${p}b`, whileDown.slice(0, 2));
        await store.append(`${p}d`, whileDown.slice(2));

        const restarted = await sut.reopen();
        const c2 = collector();
        const sub2 = restarted.subscribeToAll({ after: saved, filter: { streamPrefixes: [p] }, batchSize: 3, ...c2.options });
        await sub2.caughtUp;
        const after = events(1);
        await store.append(`${p}a`, after);
        await until(() => c2.received.length >= 5, 30_000, 'events after restart');
        await sub2.stop();

        expect(ids(c2.received)).toEqual(ids([...whileDown, ...after]));
        const everything = [...c1.received, ...c2.received];
        expect(ids(everything)).toEqual(ids([...historic, ...live, ...whileDown, ...after]));
        expect(ids(everything)).toEqual(ids(await readAllVisible(store, p, head, everything.length)));
        expectStrictlyIncreasing(everything.map((e) => e.position));
        expect(c1.failure ?? c2.failure).toBeUndefined();
        if (restarted !== store) await restarted.close();
      });

      it('signals caught-up on a filter that matches nothing yet, then delivers live events', async () => {
        const p = prefix();
        const c = collector();
        const sub = store.subscribeToAll({ after: await store.headPosition(), filter: { streamPrefixes: [p] }, ...c.options });
        await sub.caughtUp;
        expect(c.received).toEqual([]);
        const e = events(1);
        await store.append(`${p}a`, e);
        await until(() => c.received.length === 1, 30_000, 'the live event');
        await sub.stop();
        expect(ids(c.received)).toEqual(ids(e));
      });

      it('filters by event type', async () => {
        const p = prefix();
        const head = await store.headPosition();
        const wanted = [event('Wanted'), event('Wanted')];
        await store.append(`${p}a`, [wanted[0]!, event('Unwanted'), wanted[1]!]);
        const c = collector();
        const sub = store.subscribeToAll({ after: head, filter: { streamPrefixes: [p], eventTypes: ['Wanted'] }, ...c.options });
        await sub.caughtUp;
        await sub.stop();
        expect(ids(c.received)).toEqual(ids(wanted));
      });

      (options.connectionsCanBeCut ? it : it.skip)('goes on after its connections are cut, from the last handled event, without reporting an error', async () => {
        const p = prefix();
        const head = await store.headPosition();
        const before = events(2);
        await store.append(`${p}a`, before);
        const c = collector();
        const sub = store.subscribeToAll({ after: head, filter: { streamPrefixes: [p] }, ...c.options });
        await sub.caughtUp;
        await sut.cutConnections!();
        const after = events(2);
        // The writer's own connection may have been cut as well: a store retries nothing on append, so do.
        for (let attempt = 0; ; attempt++) {
          try {
            await store.append(`${p}b`, after);
            break;
          } catch (error) {
            if (attempt >= 5) throw error;
          }
        }
        await until(() => c.received.length >= 4 || c.failure !== undefined, 30_000, 'the events after the cut');
        await sub.stop();
        expect(c.failure).toBeUndefined();
        expect(ids(c.received)).toEqual(ids([...before, ...after]));
        expect(c.caughtUpCalls).toBe(1);
      });

      it('reports a failing handler through onError and stops', async () => {
        const p = prefix();
        const head = await store.headPosition();
        await store.append(`${p}a`, events(2));
        let failure: unknown;
        const sub: Subscription = store.subscribeToAll({
          after: head,
          filter: { streamPrefixes: [p] },
          handler: async () => {
            throw new Error('projection bug');
          },
          onError: (error) => {
            failure = error;
          },
        });
        await until(() => failure !== undefined, 30_000, 'onError');
        await sub.stop();
        expect((failure as Error).message).toBe('projection bug');
        // Nothing was handled successfully: the checkpoint to resume from is still the starting one.
        expect(sub.position).toEqual(head);
      });
    });

    describe('ordering under contention', () => {
      it(`${writers} concurrent writers to many streams: a live subscriber sees every committed event exactly once, in global order`, async () => {
        const p = prefix();
        const head = await store.headPosition();
        const writerStore = sut.contended ? await sut.contended() : store;
        const c = collector();
        const sub = store.subscribeToAll({ after: head, filter: { streamPrefixes: [p] }, batchSize: 50, ...c.options });
        await sub.caughtUp;

        const appended: string[] = [];
        const streamsCount = writers * 5;
        await Promise.all(
          Array.from({ length: writers }, async (_, w) => {
            for (let k = 0; k < appendsPerWriter; k++) {
              const batch = events(1 + ((w + k) % 3));
              const stream = `${p}${(w * 7 + k * 13) % streamsCount}`;
              await writerStore.append(stream, batch, 'any');
              appended.push(...ids(batch));
            }
          }),
        );
        const committed = await readAllVisible(store, p, head, appended.length);
        // Give the subscriber time to read everything; it must then have exactly the committed log.
        await until(() => c.received.length >= appended.length, 30_000, 'the subscriber to see every event').catch(() => undefined);
        await sub.stop();

        const seen = ids(c.received);
        const missing = appended.filter((id) => !seen.includes(id));
        const duplicates = seen.filter((id, i) => seen.indexOf(id) !== i);
        expect({ missing: missing.length, duplicates: duplicates.length }).toEqual({ missing: 0, duplicates: 0 });
        expect(committed).toHaveLength(appended.length);
        expect(seen).toEqual(ids(committed));
        expectStrictlyIncreasing(c.received.map((e) => e.position));
        // Every stream's revisions are contiguous from 0.
        const perStream = new Map<string, number[]>();
        for (const e of committed) perStream.set(e.streamId, [...(perStream.get(e.streamId) ?? []), e.revision]);
        for (const revisions of perStream.values()) expect(revisions).toEqual(revisions.map((_, i) => i));
        expect(c.failure).toBeUndefined();
        if (writerStore !== store) await writerStore.close();
      });
    });
  });
}
