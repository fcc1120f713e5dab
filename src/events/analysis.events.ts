import { z } from 'zod';

const range = { from: z.string(), to: z.string() };

export const analysisRequestedV1 = z.object({
  analysisId: z.uuid(),
  systemId: z.string(),
  ...range,
  mode: z.enum(['sync', 'async']),
  modelVersion: z.string(),
});
export type AnalysisRequestedData = z.infer<typeof analysisRequestedV1>;
export const ANALYSIS_REQUESTED = 'AnalysisRequested';

export const analysisCompletedV1 = z.object({
  analysisId: z.uuid(),
  systemId: z.string(),
  windows: z.number().int().nonnegative(),
  anomalies: z.number().int().nonnegative(),
  /** Anomalies that were already recorded (by the saga or an earlier analysis) and not appended again. */
  alreadyRecorded: z.number().int().nonnegative(),
  durationMs: z.number().nonnegative(),
});
export type AnalysisCompletedData = z.infer<typeof analysisCompletedV1>;
export const ANALYSIS_COMPLETED = 'AnalysisCompleted';

export const analysisFailedV1 = z.object({
  analysisId: z.uuid(),
  systemId: z.string(),
  error: z.string(),
  attempts: z.number().int().positive(),
});
export type AnalysisFailedData = z.infer<typeof analysisFailedV1>;
export const ANALYSIS_FAILED = 'AnalysisFailed';

/** A worker took the job (attempt = delivery number); windowsTotal once the range is read. */
export const analysisStartedV1 = z.object({
  analysisId: z.uuid(),
  systemId: z.string(),
  attempt: z.number().int().positive(),
  windowsTotal: z.number().int().nonnegative(),
});
export type AnalysisStartedData = z.infer<typeof analysisStartedV1>;
export const ANALYSIS_STARTED = 'AnalysisStarted';

export const analysisProgressedV1 = z.object({
  analysisId: z.uuid(),
  systemId: z.string(),
  windowsDone: z.number().int().nonnegative(),
  windowsTotal: z.number().int().nonnegative(),
});
export type AnalysisProgressedData = z.infer<typeof analysisProgressedV1>;
export const ANALYSIS_PROGRESSED = 'AnalysisProgressed';
