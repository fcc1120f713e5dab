import { v5 as uuidv5 } from 'uuid';
import { DuplicateEventIdError, type EventStore, type NewEvent } from '../event-store/event-store.js';
import { ANOMALY_DETECTED, type AnomalyDetectedData } from '../events/anomaly-detected.event.js';
import { BASELINE_ESTABLISHED, type BaselineEstablishedData } from '../events/baseline-established.event.js';
import { newEvent } from '../events/event-registry.js';
import type { HealthyReference } from './baseline/healthy-baseline.js';
import { streams } from '../events/streams.js';
import type { AssembledWindow } from './window-assembler.js';
import type { WindowScore } from './window-scorer.js';

/** Namespace of AnomalyDetected ids (uuid v5). */
export const ANOMALY_NAMESPACE = '3b0f6a52-9d7e-4c1b-8f25-6a1e2d4c9b07';

/** One decision per (system, equipment, window, model version): the saga and every analysis derive the same id. */
export function anomalyEventId(systemId: string, equipmentId: string, windowStart: number, modelVersion: string): string {
  return uuidv5(`${systemId}/${equipmentId}/${new Date(windowStart).toISOString()}/${modelVersion}`, ANOMALY_NAMESPACE);
}

export function anomalyDetectedEvent(
  window: AssembledWindow,
  score: WindowScore,
  meta: { correlationId: string; causationId: string; actor: string; analysisId?: string },
): NewEvent<typeof ANOMALY_DETECTED, AnomalyDetectedData> {
  const data: AnomalyDetectedData = {
    systemId: window.systemId,
    equipmentId: window.equipmentId,
    window: { from: new Date(window.start).toISOString(), to: new Date(window.end).toISOString() },
    score: score.score,
    severity: score.severity,
    affectedComponent: score.affectedComponent,
    components: score.components,
    confidence: Math.min(1, Math.max(0, score.confidence)),
    modelVersion: score.modelVersion,
    votes: score.votes,
    operatingConditions: score.operatingConditions ?? null,
    sourceEventIds: window.sourceEventIds,
    ...(meta.analysisId ? { analysisId: meta.analysisId } : {}),
  };
  return newEvent(ANOMALY_DETECTED, anomalyEventId(window.systemId, window.equipmentId, window.start, score.modelVersion), data, {
    correlationId: meta.correlationId,
    causationId: meta.causationId,
    actor: meta.actor,
    modelVersion: score.modelVersion,
  });
}

/** Namespace of BaselineEstablished ids (uuid v5): a replay of the same windows names the same reference. */
export const BASELINE_NAMESPACE = '7c2e9a41-5b3d-4f08-9e6a-2d8f1c4b7a93';

export function baselineEstablishedEvent(
  window: AssembledWindow,
  modelVersion: string,
  ref: HealthyReference,
  meta: { correlationId: string; causationId: string; actor: string },
): NewEvent<typeof BASELINE_ESTABLISHED, BaselineEstablishedData> {
  const to = new Date(window.start).toISOString();
  const data: BaselineEstablishedData = {
    systemId: window.systemId,
    equipmentId: window.equipmentId,
    regime: ref.regime,
    modelVersion,
    source: 'commissioning',
    windows: { count: ref.windows, last: to },
    features: ref.features,
    mean: ref.mean,
    std: ref.std,
    selfDeviationP95: ref.selfDeviationP95,
  };
  const id = uuidv5(`${window.systemId}/${window.equipmentId}/${ref.regime}/${modelVersion}/${to}`, BASELINE_NAMESPACE);
  return newEvent(BASELINE_ESTABLISHED, id, data, { ...meta, modelVersion });
}

/** Appends one event idempotently: 'already' when the same id was recorded before (replay). */
export async function appendOnce(store: EventStore, stream: string, event: NewEvent): Promise<'written' | 'already'> {
  try {
    return (await store.append(stream, [event], 'any')).written ? 'written' : 'already';
  } catch (error) {
    if (error instanceof DuplicateEventIdError) return 'already';
    throw error;
  }
}

/**
 * Appends one AnomalyDetected on its own (the adapter treats a re-append as success only when every id
 * of the append matches). 'already' when the same decision was recorded before (saga replay, analysis).
 */
export async function appendAnomaly(store: EventStore, event: NewEvent<typeof ANOMALY_DETECTED, AnomalyDetectedData>): Promise<'written' | 'already'> {
  try {
    const result = await store.append(streams.anomalies(event.data.systemId), [event], 'any');
    return result.written ? 'written' : 'already';
  } catch (error) {
    if (error instanceof DuplicateEventIdError) return 'already';
    throw error;
  }
}
