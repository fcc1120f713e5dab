import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import type { RecordedEvent } from '../event-store/event-store.js';
import { ANOMALY_DETECTED, anomalyDetectedV2, type AnomalyDetectedData, type AnomalyDetectedDataV1 } from './anomaly-detected.event.js';
import { BASELINE_ESTABLISHED } from './baseline-established.event.js';
import { EventSchemaError, latestVersion, newEvent, upcast } from './event-registry.js';

const c = (degraded: boolean) => ({ condition: degraded ? 115 : 130, degraded, probability: degraded ? 0.9 : 0.1 });
const v1: AnomalyDetectedDataV1 = {
  systemId: 'rig-1',
  equipmentId: 'press-7',
  window: { from: '2025-01-01T00:00:00.000Z', to: '2025-01-01T00:01:00.000Z' },
  score: 0.9,
  severity: 'medium',
  affectedComponent: 'accumulator',
  components: { cooler: c(false), valve: c(false), pump: c(false), accumulator: c(true) },
  confidence: 0.8,
  modelVersion: 'hydraulic-17-1.1.0',
  votes: { rf: { weight: 0.4, anomaly: true, score: 0.9 } },
  sourceEventIds: [randomUUID()],
};
const stored = (data: unknown, schemaVersion: number): RecordedEvent => ({
  eventId: randomUUID(),
  type: ANOMALY_DETECTED,
  data,
  metadata: { correlationId: 'c', schemaVersion, occurredAt: '2025-01-01T00:00:00.000Z' },
  streamId: 'anomalies-rig-1',
  revision: 0,
  position: { commit: 1, prepare: 1 },
  createdAt: '2025-01-01T00:00:00.000Z',
});

describe('AnomalyDetected versions', () => {
  it('is at version 2; BaselineEstablished at version 1', () => {
    expect(latestVersion(ANOMALY_DETECTED)).toBe(2);
    expect(latestVersion(BASELINE_ESTABLISHED)).toBe(1);
  });
  it('given a stored v1 event, when read, then it is upcast to v2 with operatingConditions null (not assessed) and the stored data is untouched', () => {
    const event = stored(v1, 1);
    const snapshot = JSON.stringify(event.data);
    const up = upcast(event);
    expect((up.data as AnomalyDetectedData).operatingConditions).toBeNull();
    expect(up.metadata).toMatchObject({ schemaVersion: 2, upcastFrom: 1 });
    expect(JSON.stringify(event.data)).toBe(snapshot);
  });
  it('given a new event, then it is written at v2; operating conditions are validated, and left out they read as null (not assessed)', () => {
    const oc = { regime: 'cooler-100', coverage: 0.004, hasBaseline: false, unfamiliar: true };
    const e = newEvent(ANOMALY_DETECTED, randomUUID(), { ...v1, operatingConditions: oc }, { correlationId: 'c', actor: 'a' });
    expect(e.metadata.schemaVersion).toBe(2);
    expect(anomalyDetectedV2.parse(v1).operatingConditions).toBeNull();
    expect(() => newEvent(ANOMALY_DETECTED, randomUUID(), { ...v1, operatingConditions: { regime: 'x' } }, { correlationId: 'c', actor: 'a' })).toThrow(EventSchemaError);
    expect(() => newEvent(ANOMALY_DETECTED, randomUUID(), { ...v1, operatingConditions: { ...oc, coverage: 2 } }, { correlationId: 'c', actor: 'a' })).toThrow(/coverage/);
  });
});
