import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import type { RecordedEvent } from '../event-store/event-store.js';
import { EventSchemaError, latestVersion, newEvent, upcast } from './event-registry.js';
import { READINGS_QUARANTINED, type ReadingsQuarantinedDataV1 } from './readings-quarantined.event.js';

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
  it('is at version 2', () => {
    expect(latestVersion(READINGS_QUARANTINED)).toBe(2);
  });

  it('given a stored v1 event, when upcast, then it has the v2 shape with errorCount derived from its rows', () => {
    const event = stored(v1, 1);
    const current = upcast(event);
    expect(current.data).toEqual({ ...v1, errorCount: 3 });
    expect(current.metadata).toMatchObject({ schemaVersion: 2, upcastFrom: 1 });
    // The stored event object is not modified.
    expect(event.data).toEqual(v1);
    expect(event.metadata.schemaVersion).toBe(1);
  });

  it('given a stored v2 event, when upcast, then it is returned as stored', () => {
    const event = stored({ ...v1, errorCount: 3 }, 2);
    expect(upcast(event)).toBe(event);
  });

  it('rejects a version it does not know', () => {
    expect(() => upcast(stored(v1, 3))).toThrow(EventSchemaError);
  });

  it('new events are written at v2 and must carry errorCount', () => {
    const e = newEvent(READINGS_QUARANTINED, randomUUID(), { ...v1, errorCount: 3 }, { correlationId: 'c' });
    expect(e.metadata.schemaVersion).toBe(2);
    expect(() => newEvent(READINGS_QUARANTINED, randomUUID(), v1, { correlationId: 'c' })).toThrow(EventSchemaError);
  });
});
