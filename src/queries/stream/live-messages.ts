import type { Position, RecordedEvent } from '../../event-store/event-store.js';
import {
  ANOMALY_DETECTED,
  ANOMALY_FEEDBACK_RECORDED,
  type AnomalyDetectedData,
  type AnomalyFeedbackRecordedData,
} from '../../events/anomaly-detected.event.js';

/** One server-sent event: `id` is the global log position of the event behind it. */
export interface LiveMessage {
  id: string;
  event: 'anomaly' | 'health' | 'feedback';
  data: Record<string, unknown>;
}

export function encodePosition(p: Position): string {
  return `${p.commit}-${p.prepare}`;
}

/** undefined when the text is not a position this service sent (the stream then starts at the head). */
export function decodePosition(text: string | undefined): Position | undefined {
  const m = /^(-?\d{1,19})-(-?\d{1,19})$/.exec(text?.trim() ?? '');
  return m ? { commit: Number(m[1]), prepare: Number(m[2]) } : undefined;
}

/**
 * Pure: the messages a batch of events (in log order) gives a client: `anomaly` per flagged window, `feedback`
 * per verdict, and one `health` per system at the batch's last event of that system (its state may have changed).
 */
export function liveMessages(events: readonly RecordedEvent[], systemId?: string): LiveMessage[] {
  const out: LiveMessage[] = [];
  const health = new Map<string, LiveMessage>();
  for (const e of events) {
    const id = encodePosition(e.position);
    if (e.type === ANOMALY_DETECTED) {
      const d = e.data as AnomalyDetectedData;
      if (systemId && d.systemId !== systemId) continue;
      if (d.severity !== 'none') {
        out.push({
          id,
          event: 'anomaly',
          data: {
            anomaly_id: e.eventId,
            system_id: d.systemId,
            equipment_id: d.equipmentId,
            window_start: d.window.from,
            severity: d.severity,
            affected_component: d.affectedComponent,
            model_version: d.modelVersion,
          },
        });
      }
      health.delete(d.systemId);
      health.set(d.systemId, { id, event: 'health', data: { system_id: d.systemId } });
    } else if (e.type === ANOMALY_FEEDBACK_RECORDED) {
      const d = e.data as AnomalyFeedbackRecordedData;
      if (systemId && d.systemId !== systemId) continue;
      out.push({ id, event: 'feedback', data: { anomaly_id: d.anomalyId, system_id: d.systemId, verdict: d.verdict, actor: d.actor } });
      health.delete(d.systemId);
      health.set(d.systemId, { id, event: 'health', data: { system_id: d.systemId } });
    }
  }
  // health last: a client that re-reads health on it sees every anomaly of the batch.
  return [...out, ...health.values()];
}

export function formatSse(m: LiveMessage): string {
  return `id: ${m.id}\nevent: ${m.event}\ndata: ${JSON.stringify(m.data)}\n\n`;
}
