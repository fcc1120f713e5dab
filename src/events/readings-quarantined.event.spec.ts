import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import type { RecordedEvent } from '../event-store/event-store.js';
import { EventSchemaError, latestVersion, newEvent, upcast } from './event-registry.js';
import { createHash } from 'node:crypto';
import { READINGS_QUARANTINED, type ReadingsQuarantinedDataV1 } from './readings-quarantined.event.js';

const sizeAndHash = (text: string) => ({ rawBytes: Buffer.byteLength(text), rawSha256: createHash('sha256').update(text).digest('hex'), rawTruncated: false });
/** v1 rows in the v3 shape: v1 → v2 derives errorCount, v2 → v3 the size and hash of each row's text. */
const asV3 = (d: ReadingsQuarantinedDataV1) => ({ ...d, errorCount: 3, rows: d.rows.map((r) => ({ ...r, ...sizeAndHash(JSON.stringify(r.raw)) })) });

const v1: ReadingsQuarantinedDataV1 = {
  batchId: randomUUID(),
  systemId: 'rig-7',
  source: 'csv',
  rows: [
    { row: 1, raw: { v: 'x' }, errors: [{ field: 'v', message: 'must be a finite number' }] },
    { row: 4, raw: {}, errors: [{ field: 'ts', message: 'is required' }, { field: 'v', message: 'is required' }] },
  ],
};

const stored = (data: unknown, schemaVersion: number): RecordedEvent => ({
  eventId: randomUUID(),
  type: READINGS_QUARANTINED,
  data,
  metadata: { correlationId: 'c', schemaVersion, occurredAt: '2025-01-01T00:00:00.000Z' },
  streamId: 'readings-rig-7',
  revision: 0,
  position: { commit: 1, prepare: 1 },
  createdAt: '2025-01-01T00:00:00.000Z',
});

describe('ReadingsQuarantined versions', () => {
  it('is at version 3', () => {
    expect(latestVersion(READINGS_QUARANTINED)).toBe(3);
  });

  it('given a stored v1 event, when upcast, then it has the v3 shape: errorCount from its rows, size and hash of each row', () => {
    const event = stored(v1, 1);
    const current = upcast(event);
    expect(current.data).toEqual(asV3(v1));
    expect(current.metadata).toMatchObject({ schemaVersion: 3, upcastFrom: 1 });
    // The stored event object is not modified.
    expect(event.data).toEqual(v1);
    expect(event.metadata.schemaVersion).toBe(1);
  });

  it('given a stored v2 event (a CSV line), when upcast, then size and hash are of the line itself', () => {
    const csv = { ...v1, errorCount: 1, rows: [{ row: 1, raw: 'rig,a,b,yesterday,1', errors: [{ field: 'ts', message: 'bad' }] }] };
    expect(upcast(stored(csv, 2)).data).toEqual({ ...csv, rows: [{ ...csv.rows[0], ...sizeAndHash('rig,a,b,yesterday,1') }] });
  });

  it('given a stored v3 event, when upcast, then it is returned as stored', () => {
    const event = stored(asV3(v1), 3);
    expect(upcast(event)).toBe(event);
  });

  it('rejects a version it does not know', () => {
    expect(() => upcast(stored(v1, 4))).toThrow(EventSchemaError);
  });

  it('new events are written at v3 and must carry errorCount and each row\'s size and hash', () => {
    const e = newEvent(READINGS_QUARANTINED, randomUUID(), asV3(v1), { correlationId: 'c' });
    expect(e.metadata.schemaVersion).toBe(3);
    expect(() => newEvent(READINGS_QUARANTINED, randomUUID(), { ...v1, errorCount: 3 }, { correlationId: 'c' })).toThrow(EventSchemaError);
  });
});
