import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import type { RecordedEvent } from '../../src/event-store/event-store.js';
import { PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.js';
import { READINGS_QUARANTINED, upcastReadingsQuarantinedV2, type ReadingsQuarantinedDataV1 } from '../../src/events/readings-quarantined.event.js';
import { applyBatch } from '../../src/projections/projection-runner.js';
import type { Projection } from '../../src/projections/projection.js';
import { EVENT_LOG_BACKENDS, createTestDatabase, type TestDatabase } from '../support/test-databases.js';

/** Old events stay as stored; readers (projections) get the latest shape through the upcaster chain. */
describe.each(EVENT_LOG_BACKENDS)('event schema versioning (%s)', (backend) => {
  let t: TestDatabase;
  let store: PostgresEventStore;
  beforeAll(async () => {
    t = await createTestDatabase(backend);
    store = new PostgresEventStore(t.database, { pollIntervalMs: 50 });
  }, 180_000);
  afterAll(() => t?.dispose());

  const v1 = (): ReadingsQuarantinedDataV1 => ({
    batchId: randomUUID(),
    systemId: 'rig-3',
    source: 'json',
    rows: [{ row: 2, raw: { v: null }, errors: [{ field: 'v', message: 'is required' }, { field: 'unit', message: 'too long' }] }],
  });

  /** What a projection receives: applyBatch upcasts before calling apply. */
  async function throughProjection(events: RecordedEvent[]): Promise<RecordedEvent[]> {
    const seen: RecordedEvent[] = [];
    const recorder: Projection = {
      name: `recorder_${randomUUID().slice(0, 8)}`,
      tables: [],
      apply: async (_ctx, batch) => {
        seen.push(...batch);
      },
    };
    await applyBatch(t.database.db, recorder, events);
    return seen;
  }

  /** v1 → v2 adds errorCount; v2 → v3 the size and hash of each row's text. */
  const latest = (data: ReadingsQuarantinedDataV1) => upcastReadingsQuarantinedV2({ ...data, errorCount: 2 });

  it('a raw v1 row written by the old code reaches projections in the latest shape and stays v1 in storage', async () => {
    const data = v1();
    const eventId = randomUUID();
    const streamId = `readings-rig-3-${randomUUID().slice(0, 8)}`;
    // The row exactly as the v1 code stored it (before errorCount existed).
    await sql`insert into streams (stream_id, revision) values (${streamId}, 0)`.execute(t.database.db);
    await sql`
      insert into events (stream_id, stream_revision, event_id, type, data, metadata)
      values (${streamId}, 0, ${eventId}, ${READINGS_QUARANTINED}, ${JSON.stringify(data)}::jsonb,
        ${JSON.stringify({ correlationId: 'old', schemaVersion: 1, occurredAt: '2024-06-01T00:00:00.000Z' })}::jsonb)`.execute(t.database.db);

    const [raw] = await store.readStream(streamId);
    expect(raw!.data).toEqual(data);

    // Through a live subscription, as the projection runner consumes the log.
    const delivered: RecordedEvent[] = [];
    const sub = store.subscribeToAll({ filter: { streamPrefixes: [streamId] }, handler: async (b) => void delivered.push(...b) });
    // A commit becomes readable once no older write transaction runs on the (shared) server.
    for (const deadline = Date.now() + 30_000; delivered.length === 0 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
    await sub.stop();
    const [projected] = await throughProjection(delivered);
    expect(projected!.data).toEqual(latest(data));
    expect(projected!.metadata).toMatchObject({ schemaVersion: 3, upcastFrom: 1, correlationId: 'old' });

    const { rows } = await sql<{ data: unknown; metadata: { schemaVersion: number } }>`
      select data, metadata from events where event_id = ${eventId}`.execute(t.database.db);
    expect(rows[0]!.data).toEqual(data);
    expect(rows[0]!.metadata.schemaVersion).toBe(1);
  });

  it('a v1 event appended through the port (schemaVersion 1) is upcast on the way to projections', async () => {
    const data = v1();
    const streamId = `readings-rig-3-${randomUUID().slice(0, 8)}`;
    await store.append(streamId, [
      { eventId: randomUUID(), type: READINGS_QUARANTINED, data, metadata: { correlationId: 'c', schemaVersion: 1, occurredAt: new Date().toISOString() } },
    ]);
    const [projected] = await throughProjection(await store.readStream(streamId));
    expect(projected!.data).toEqual(latest(data));
  });
});
