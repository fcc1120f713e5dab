import { describe, expect, it } from '@jest/globals';
import type { RecordedEvent } from '../../event-store/event-store.js';
import { decodePosition, encodePosition, formatSse, liveMessages } from './live-messages.js';

const at = (n: number) => ({ commit: 100 + n, prepare: n });
function anomaly(n: number, systemId: string, severity: string): RecordedEvent {
  return {
    eventId: `00000000-0000-4000-8000-00000000000${n}`,
    type: 'AnomalyDetected',
    streamId: `anomalies-${systemId}`,
    revision: n,
    position: at(n),
    createdAt: '2026-03-01T00:00:00Z',
    metadata: { correlationId: 'c', schemaVersion: 1, occurredAt: '2026-03-01T00:00:00Z' },
    data: { systemId, equipmentId: 'eq-1', window: { from: '2026-03-01T00:00:00.000Z', to: '2026-03-01T00:01:00.000Z' }, severity, affectedComponent: 'pump', modelVersion: 'v1' },
  };
}

describe('liveMessages', () => {
  it('given a flagged and a healthy window, sends one anomaly and then one health message at the last event', () => {
    const m = liveMessages([anomaly(1, 'rig-a', 'high'), anomaly(2, 'rig-a', 'none')]);
    expect(m.map((x) => [x.event, x.id])).toEqual([
      ['anomaly', '101-1'],
      ['health', '102-2'],
    ]);
    expect(m[0]!.data).toMatchObject({ anomaly_id: '00000000-0000-4000-8000-000000000001', system_id: 'rig-a', severity: 'high' });
  });

  it('given a system filter, leaves out other systems', () => {
    expect(liveMessages([anomaly(1, 'rig-a', 'high'), anomaly(2, 'rig-b', 'low')], 'rig-b').map((x) => x.data.system_id)).toEqual(['rig-b', 'rig-b']);
  });

  it('sends a feedback message per verdict', () => {
    const e: RecordedEvent = { ...anomaly(3, 'rig-a', 'high'), type: 'AnomalyFeedbackRecorded', data: { anomalyId: 'x', systemId: 'rig-a', verdict: 'confirmed', actor: 'k1' } };
    expect(liveMessages([e]).map((x) => x.event)).toEqual(['feedback', 'health']);
  });
});

describe('positions as event ids', () => {
  it('round-trip, and anything else is no position', () => {
    expect(decodePosition(encodePosition({ commit: 12, prepare: 7 }))).toEqual({ commit: 12, prepare: 7 });
    expect(decodePosition('abc')).toBeUndefined();
    expect(decodePosition(undefined)).toBeUndefined();
  });

  it('formats a message as text/event-stream', () => {
    expect(formatSse({ id: '1-1', event: 'health', data: { system_id: 'a' } })).toBe('id: 1-1\nevent: health\ndata: {"system_id":"a"}\n\n');
  });
});
