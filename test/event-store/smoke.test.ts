import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.js';
import { BACKENDS, createTestDatabase, type TestDatabase } from '../support/test-databases.js';

describe.each(BACKENDS)('smoke %s', (backend) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase(backend);
  });
  afterAll(() => t.dispose());
  it('appends and reads', async () => {
    const store = new PostgresEventStore(t.database);
    const e = () => ({ eventId: randomUUID(), type: 'T', data: { a: 1 }, metadata: { correlationId: 'c', schemaVersion: 1, occurredAt: new Date().toISOString() } });
    const r = await store.append('s-1', [e(), e()], 'no_stream');
    expect(r.nextExpectedRevision).toBe(1);
    const all = await store.readAll();
    expect(all).toHaveLength(2);
    expect((await store.readStream('s-1', { direction: 'backwards' }))[0]!.revision).toBe(1);
  });
});
