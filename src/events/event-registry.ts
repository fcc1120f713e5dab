import type { z } from 'zod';
import type { EventMetadata, NewEvent, RecordedEvent } from '../event-store/event-store.js';
import {
  ANALYSIS_COMPLETED,
  ANALYSIS_FAILED,
  ANALYSIS_PROGRESSED,
  ANALYSIS_REQUESTED,
  ANALYSIS_STARTED,
  analysisCompletedV1,
  analysisFailedV1,
  analysisProgressedV1,
  analysisRequestedV1,
  analysisStartedV1,
} from './analysis.events.js';
import {
  ANOMALY_DETECTED,
  ANOMALY_FEEDBACK_RECORDED,
  anomalyDetectedV1,
  anomalyDetectedV2,
  anomalyFeedbackRecordedV1,
  upcastAnomalyDetectedV1,
} from './anomaly-detected.event.js';
import { BASELINE_ESTABLISHED, baselineEstablishedV1 } from './baseline-established.event.js';
import { EventTooLargeError, MAX_EVENT_BYTES } from './event-size.js';
import { MODEL_VERSION_PROMOTED, modelVersionPromotedV1 } from './model-version-promoted.event.js';
import { READINGS_INGESTED, readingsIngestedV1 } from './readings-ingested.event.js';
import {
  READINGS_QUARANTINED,
  readingsQuarantinedV1,
  readingsQuarantinedV2,
  readingsQuarantinedV3,
  upcastReadingsQuarantinedV1,
  upcastReadingsQuarantinedV2,
} from './readings-quarantined.event.js';

/**
 * Every event type with one zod schema per schema version and the upcasters that lift version n to n+1.
 * Stored events are never rewritten: readers upcast on the way out.
 */
export interface EventTypeDefinition {
  type: string;
  versions: readonly z.ZodType[];
  /** upcasters[i] lifts data of version i+1 to version i+2. */
  upcasters: readonly ((data: unknown) => unknown)[];
}

const definitions = new Map<string, EventTypeDefinition>();

export function defineEvent(definition: EventTypeDefinition): void {
  if (definition.upcasters.length !== definition.versions.length - 1) {
    throw new Error(`${definition.type}: ${definition.versions.length} versions need ${definition.versions.length - 1} upcasters`);
  }
  definitions.set(definition.type, definition);
}

export function latestVersion(type: string): number {
  const definition = definitions.get(type);
  if (!definition) throw new Error(`unknown event type ${type}`);
  return definition.versions.length;
}

export class EventSchemaError extends Error {}

/** Lifts a stored event's data to the latest version of its type and validates it. Unknown types pass as stored. */
export function upcast<E extends RecordedEvent>(event: E): E {
  const definition = definitions.get(event.type);
  if (!definition) return event;
  const stored = Number(event.metadata.schemaVersion ?? 1);
  if (!Number.isInteger(stored) || stored < 1 || stored > definition.versions.length) {
    throw new EventSchemaError(`${event.type} ${event.eventId}: unsupported schemaVersion ${String(event.metadata.schemaVersion)}`);
  }
  if (stored === definition.versions.length) return event;
  let data = event.data;
  for (let v = stored; v < definition.versions.length; v++) data = definition.upcasters[v - 1]!(data);
  const parsed = definition.versions[definition.versions.length - 1]!.safeParse(data);
  if (!parsed.success) throw new EventSchemaError(`${event.type} ${event.eventId}: upcast data invalid: ${parsed.error.message}`);
  return { ...event, data: parsed.data, metadata: { ...event.metadata, upcastFrom: stored, schemaVersion: definition.versions.length } };
}

/** Builds a new event at the latest schema version, validating its data. */
export function newEvent<T extends string, D>(
  type: T,
  eventId: string,
  data: D,
  metadata: Omit<EventMetadata, 'schemaVersion' | 'occurredAt'> & { occurredAt?: string },
): NewEvent<T, D> {
  const definition = definitions.get(type);
  if (!definition) throw new Error(`unknown event type ${type}`);
  const schema = definition.versions[definition.versions.length - 1]!;
  const parsed = schema.safeParse(data);
  if (!parsed.success) throw new EventSchemaError(`${type}: invalid data: ${parsed.error.message}`);
  const bytes = Buffer.byteLength(JSON.stringify(data));
  if (bytes > MAX_EVENT_BYTES) throw new EventTooLargeError(type, bytes);
  return {
    eventId,
    type,
    data,
    metadata: {
      ...metadata,
      correlationId: String(metadata.correlationId),
      occurredAt: metadata.occurredAt ?? new Date().toISOString(),
      schemaVersion: definition.versions.length,
    },
  };
}

defineEvent({ type: READINGS_INGESTED, versions: [readingsIngestedV1], upcasters: [] });
defineEvent({
  type: READINGS_QUARANTINED,
  versions: [readingsQuarantinedV1, readingsQuarantinedV2, readingsQuarantinedV3],
  upcasters: [upcastReadingsQuarantinedV1, upcastReadingsQuarantinedV2],
});
defineEvent({ type: ANOMALY_DETECTED, versions: [anomalyDetectedV1, anomalyDetectedV2], upcasters: [upcastAnomalyDetectedV1] });
defineEvent({ type: BASELINE_ESTABLISHED, versions: [baselineEstablishedV1], upcasters: [] });
defineEvent({ type: ANOMALY_FEEDBACK_RECORDED, versions: [anomalyFeedbackRecordedV1], upcasters: [] });
defineEvent({ type: ANALYSIS_REQUESTED, versions: [analysisRequestedV1], upcasters: [] });
defineEvent({ type: ANALYSIS_COMPLETED, versions: [analysisCompletedV1], upcasters: [] });
defineEvent({ type: ANALYSIS_FAILED, versions: [analysisFailedV1], upcasters: [] });
defineEvent({ type: ANALYSIS_STARTED, versions: [analysisStartedV1], upcasters: [] });
defineEvent({ type: ANALYSIS_PROGRESSED, versions: [analysisProgressedV1], upcasters: [] });
defineEvent({ type: MODEL_VERSION_PROMOTED, versions: [modelVersionPromotedV1], upcasters: [] });
