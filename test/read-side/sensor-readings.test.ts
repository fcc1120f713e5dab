import { randomUUID } from 'node:crypto';
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { createDatabase } from '../../src/database/create-database.js';
import type { Database } from '../../src/database/database.js';
import { migrateToLatest, MIGRATIONS_DIR } from '../../src/database/migrate.js';
import type { EventStore } from '../../src/event-store/event-store.js';
import { PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.js';
import { newEvent } from '../../src/events/event-registry.js';
import { READINGS_INGESTED, type ReadingsIngestedData, type Sample } from '../../src/events/readings-ingested.event.js';
import { applyBatch } from '../../src/projections/projection-runner.js';
import { SensorReadingsProjection } from '../../src/projections/sensor-readings.projection.js';
import { GetReadingsHandler } from '../../src/queries/readings/get-readings.handler.js';
import { GetReadingsQuery, getReadingsParams } from '../../src/queries/readings/get-readings.query.js';
import { countSensorValues } from '../support/sensor-values.js';
import { BACKENDS, createPostgresDatabase, createTestDatabase, type TestDatabase } from '../support/test-databases.js';

const T = '2024-05-01T12:00:00.000Z';
const T2 = '2024-05-01T12:00:01.000Z';

function ingested(samples: Sample[], units: Record<string, string> = {}, equipmentId = 'eq-1') {
  const data: ReadingsIngestedData = { batchId: randomUUID(), systemId: 'rig-1', equipmentId, source: 'json', chunk: 0, samples, units };
  return newEvent(READINGS_INGESTED, randomUUID(), data, { correlationId: randomUUID(), actor: 'test' });
}

async function readings(database: Database, params: Record<string, string> = {}) {
  const { items } = await new GetReadingsHandler(database).execute(new GetReadingsQuery('rig-1', getReadingsParams.parse(params)));
  return items.map((i) => [i.equipment_id, i.sensor_id, i.ts, i.v, i.unit, i.meta]);
}

describe.each(BACKENDS)('sensor_readings read model on %s', (backend) => {
  let t: TestDatabase;
  let store: EventStore;
  beforeAll(async () => {
    t = await createTestDatabase(backend);
    store = new PostgresEventStore(t.database);
  });
  afterAll(async () => t?.dispose());

  // A later event for the same sample replaces the sensors it carries, with their unit and meta (or lack of
  // one), and keeps the others — whether the two events reach the projection in one batch or in two.
  it.each([
    ['in one batch', 'one'],
    ['in two batches', 'two'],
  ])('last write wins per sensor %s', async (_name, batching) => {
    await sql`delete from sensor_readings`.execute(t.database.db);
    const first = ingested([{ ts: T, values: { PS1: 1, PS2: 2 }, meta: { PS2: { q: 'bad' } } }], { PS1: 'bar', PS2: 'bar' });
    const second = ingested([{ ts: T, values: { PS2: 5, PS3: 7 } }, { ts: T2, values: { PS1: 3 } }], { PS3: 'bar' });
    await store.append(`readings-rig-1-${batching}`, [first, second]);
    const events = (await store.readStream(`readings-rig-1-${batching}`)).filter((e) => e.type === READINGS_INGESTED);
    const projection = new SensorReadingsProjection();
    if (batching === 'one') await applyBatch(t.database.db, projection, events, 'public', `test-${batching}`);
    else for (const e of events) await applyBatch(t.database.db, projection, [e], 'public', `test-${batching}`);

    expect(await readings(t.database)).toEqual([
      ['eq-1', 'PS1', T, 1, 'bar', null],
      ['eq-1', 'PS2', T, 5, null, null],
      ['eq-1', 'PS3', T, 7, 'bar', null],
      ['eq-1', 'PS1', T2, 3, null, null],
    ]);
    expect(await countSensorValues(t.database.db)).toBe(4);
    const { rows } = await sql<{ event_id: string }>`select event_id from sensor_readings where ts = ${T}::timestamptz`.execute(t.database.db);
    expect(rows).toEqual([{ event_id: second.eventId }]);
  });

  it('answers one item per value, filtered by sensor, equipment and time, oldest first', async () => {
    await sql`delete from sensor_readings`.execute(t.database.db);
    const events = [
      ingested([{ ts: T, values: { PS1: 1.5, EPS1: 2400.25 }, meta: { PS1: { source: 'plc' } } }], { PS1: 'bar' }, 'eq-a'),
      ingested([{ ts: T2, values: { PS1: -0.5 } }, { ts: T, values: { PS1: 9 } }], {}, 'eq-b'),
    ];
    await store.append('readings-rig-1-query', events);
    await applyBatch(t.database.db, new SensorReadingsProjection(), await store.readStream('readings-rig-1-query'), 'public', 'test-query');
    expect(await readings(t.database)).toEqual([
      ['eq-a', 'EPS1', T, 2400.25, null, null],
      ['eq-a', 'PS1', T, 1.5, 'bar', { source: 'plc' }],
      ['eq-b', 'PS1', T, 9, null, null],
      ['eq-b', 'PS1', T2, -0.5, null, null],
    ]);
    expect(await readings(t.database, { sensor_id: 'PS1', equipment_id: 'eq-b' })).toEqual([
      ['eq-b', 'PS1', T, 9, null, null],
      ['eq-b', 'PS1', T2, -0.5, null, null],
    ]);
    expect(await readings(t.database, { sensor_id: 'PS1', from: T2 })).toEqual([['eq-b', 'PS1', T2, -0.5, null, null]]);
    expect(await readings(t.database, { to: T2, limit: '1' })).toEqual([['eq-a', 'EPS1', T, 2400.25, null, null]]);
  });
});

describe.each(BACKENDS)('migration 0006 on %s', (backend) => {
  it('folds the per-value rows of earlier versions into one row per sample', async () => {
    // Migrate to 0005 from a copy of the folder, write rows in the old shape, then migrate to the latest.
    const before = await mkdtemp(join(tmpdir(), 'migrations-0005-'));
    for (const file of await readdir(MIGRATIONS_DIR)) if (file < '0006') await copyFile(join(MIGRATIONS_DIR, file), join(before, file));
    const scratch = backend === 'pglite' ? undefined : await createPostgresDatabase(backend);
    const database = await createDatabase(scratch ? { url: scratch.url } : { dataDir: 'memory://' });
    try {
      await migrateToLatest(database, before);
      const e1 = randomUUID();
      const e2 = randomUUID();
      await sql`insert into sensor_readings (system_id, equipment_id, sensor_id, ts, v, unit, meta, event_id) values
        ('rig-1', 'eq-1', 'PS1', ${T}::timestamptz, 151.25, 'bar', null, ${e1}::uuid),
        ('rig-1', 'eq-1', 'PS2', ${T}::timestamptz, 9.5, null, '{"q": 1}'::jsonb, ${e2}::uuid),
        ('rig-1', 'eq-1', 'PS1', ${T2}::timestamptz, 150, null, null, ${e2}::uuid)`.execute(database.db);
      await migrateToLatest(database);
      expect(await readings(database)).toEqual([
        ['eq-1', 'PS1', T, 151.25, 'bar', null],
        ['eq-1', 'PS2', T, 9.5, null, { q: 1 }],
        ['eq-1', 'PS1', T2, 150, null, null],
      ]);
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from sensor_readings`.execute(database.db);
      expect(rows[0]!.n).toBe(2);
    } finally {
      await database.close();
      await scratch?.drop();
      await rm(before, { recursive: true, force: true });
    }
  });
});
