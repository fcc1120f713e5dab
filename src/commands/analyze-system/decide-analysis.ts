import { v5 as uuidv5 } from 'uuid';
import type { NewEvent } from '../../event-store/event-store.js';
import {
  ANALYSIS_COMPLETED,
  ANALYSIS_FAILED,
  ANALYSIS_PROGRESSED,
  ANALYSIS_REQUESTED,
  ANALYSIS_STARTED,
  type AnalysisCompletedData,
  type AnalysisFailedData,
  type AnalysisRequestedData,
} from '../../events/analysis.events.js';
import { newEvent } from '../../events/event-registry.js';

/** Namespace for analysis ids and the ids of the events an analysis appends (uuid v5). */
export const ANALYSIS_NAMESPACE = '8d4c2b1e-6f0a-4e3d-9b57-1c2a3f4e5d60';

/** From an Idempotency-Key the same id comes back on a retry (de-duplicated by the stream and the queue). */
export function analysisIdFor(actor: string, idempotencyKey: string | undefined, random: () => string): string {
  return idempotencyKey ? uuidv5(`${actor}\u0000${idempotencyKey}`, ANALYSIS_NAMESPACE) : random();
}

export type AnalysisMeta = {
  correlationId: string;
  causationId?: string;
  actor: string;
};

export function analysisRequested(data: AnalysisRequestedData, meta: AnalysisMeta): NewEvent {
  return newEvent(ANALYSIS_REQUESTED, uuidv5(`${data.analysisId}/requested`, ANALYSIS_NAMESPACE), data, meta);
}

/** One Started per delivery attempt; Progressed ids include the attempt and the count so a retry repeats none. */
export function analysisStarted(analysisId: string, systemId: string, attempt: number, windowsTotal: number, meta: AnalysisMeta): NewEvent {
  return newEvent(ANALYSIS_STARTED, uuidv5(`${analysisId}/started/${attempt}`, ANALYSIS_NAMESPACE), { analysisId, systemId, attempt, windowsTotal }, meta);
}

export function analysisProgressed(analysisId: string, systemId: string, attempt: number, windowsDone: number, windowsTotal: number, meta: AnalysisMeta): NewEvent {
  return newEvent(
    ANALYSIS_PROGRESSED,
    uuidv5(`${analysisId}/progress/${attempt}/${windowsDone}`, ANALYSIS_NAMESPACE),
    { analysisId, systemId, windowsDone, windowsTotal },
    meta,
  );
}

/** At most one outcome per analysis: both ids are fixed, and the worker checks the stream first. */
export function analysisCompleted(data: AnalysisCompletedData, meta: AnalysisMeta): NewEvent {
  return newEvent(ANALYSIS_COMPLETED, uuidv5(`${data.analysisId}/outcome`, ANALYSIS_NAMESPACE), data, meta);
}

export function analysisFailed(data: AnalysisFailedData, meta: AnalysisMeta): NewEvent {
  return newEvent(ANALYSIS_FAILED, uuidv5(`${data.analysisId}/outcome`, ANALYSIS_NAMESPACE), data, meta);
}
