import type { RecordedEvent } from '../../event-store/event-store.js';
import { upcast } from '../../events/event-registry.js';
import { READINGS_INGESTED, type ReadingsIngestedData } from '../../events/readings-ingested.event.js';
import {
  addChunk,
  emptyEquipment,
  flushDue,
  nextLogDeadline,
  type AssembledWindow,
  type EquipmentWindows,
  type WindowPolicy,
} from '../../inference/window-assembler.js';

/**
 * Cuts the ReadingsIngested history into windows exactly as the inference saga does (same pure assembler, same
 * policy, same clocks: sample time, and the created_at of every event in log order for flushing), so a
 * re-projection scores the very windows production scored. Dropped windows are counted, not returned.
 */
export class HistoryWindows {
  private readonly equipment = new Map<string, EquipmentWindows>();
  private logDeadline = Infinity;
  dropped = 0;
  late = 0;
  samples = 0;

  constructor(
    private readonly policy: WindowPolicy,
    private readonly systemId?: string,
  ) {}

  /** Feeds events in global order; returns the windows that became ready, in the order the saga would score them. */
  push(events: readonly RecordedEvent[]): AssembledWindow[] {
    const ready: AssembledWindow[] = [];
    const take = (outcomes: ReturnType<typeof flushDue>) => {
      for (const o of outcomes) {
        if (o.kind === 'ready') ready.push(o.window);
        else this.dropped++;
      }
    };
    for (const recorded of events) {
      const createdAt = Date.parse(recorded.createdAt);
      if (recorded.type === READINGS_INGESTED) {
        const d = (upcast(recorded) as RecordedEvent<string, ReadingsIngestedData>).data;
        if (this.systemId === undefined || d.systemId === this.systemId) {
          const state = this.stateOf(d.systemId, d.equipmentId);
          this.samples += d.samples.length;
          const added = addChunk(
            state,
            { eventId: recorded.eventId, correlationId: recorded.metadata.correlationId, createdAt, samples: d.samples },
            this.policy,
          );
          this.late += added.late;
          take(added.outcomes);
          take(flushDue(state, createdAt, this.policy));
          this.logDeadline = Math.min(this.logDeadline, nextLogDeadline(state, this.policy));
        }
      }
      if (createdAt >= this.logDeadline) {
        for (const state of this.equipment.values()) take(flushDue(state, createdAt, this.policy));
        this.logDeadline = Infinity;
        for (const state of this.equipment.values()) this.logDeadline = Math.min(this.logDeadline, nextLogDeadline(state, this.policy));
      }
    }
    return ready;
  }

  /** Windows still open at the end of the log (the saga has not scored them yet either). */
  openWindows(): number {
    let n = 0;
    for (const s of this.equipment.values()) n += s.open.size;
    return n;
  }

  stateOf(systemId: string, equipmentId: string): EquipmentWindows {
    const k = `${systemId}\u0000${equipmentId}`;
    let state = this.equipment.get(k);
    if (!state) {
      state = emptyEquipment(systemId, equipmentId);
      this.equipment.set(k, state);
    }
    return state;
  }
}
