/** What travels on the work queue: everything a worker needs, nothing it must look up elsewhere. */
export interface AnalysisJobData {
  analysisId: string;
  systemId: string;
  from: string;
  to: string;
  modelVersion: string;
  correlationId: string;
  actor: string;
  /** Id of the AnalysisRequested event (causation of everything the analysis appends). */
  requestedEventId: string;
}

export const ANALYSIS_QUEUE = Symbol('ANALYSIS_QUEUE');
