import { z } from 'zod';
import { operatingConditionsItem } from '../../events/anomaly-detected.event.js';
import type { RequestContext } from '../ingest-readings/ingest-readings.command.js';

/** Longest range answered synchronously; longer ranges go through the work queue (mode=async). */
export const SYNC_MAX_RANGE_MS = 24 * 3600_000;
export const MAX_RANGE_MS = 366 * 24 * 3600_000;

export const analyzeBody = z
  .strictObject({
    from: z.iso.datetime({ offset: true }).meta({ description: 'Inclusive start of the range (event time)' }),
    to: z.iso.datetime({ offset: true }).meta({ description: 'Exclusive end of the range' }),
    mode: z.enum(['sync', 'async']).meta({ description: 'sync: answer with the result; async: 202 and a status URL' }),
    model_version: z.string().min(1).max(128).optional().meta({ description: 'Default: the loaded (active) model version' }),
  })
  .superRefine((b, ctx) => {
    const span = Date.parse(b.to) - Date.parse(b.from);
    if (!(span > 0)) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
    else if (span > MAX_RANGE_MS) ctx.addIssue({ code: 'custom', path: ['to'], message: 'range must be at most 366 days' });
    else if (b.mode === 'sync' && span > SYNC_MAX_RANGE_MS) {
      ctx.addIssue({ code: 'custom', path: ['mode'], message: 'sync analysis covers at most 24 hours; use mode=async' });
    }
  });
export type AnalyzeBody = z.infer<typeof analyzeBody>;

export class AnalyzeSystemCommand {
  constructor(
    readonly systemId: string,
    readonly body: AnalyzeBody,
    readonly context: RequestContext,
    readonly idempotencyKey?: string,
  ) {}
}

/** The states of an analysis (one name in the document, shared by three schemas). */
export const analysisState = z.enum(['requested', 'running', 'completed', 'failed']).meta({ id: 'AnalysisState' });

export const anomalyItem = z.object({
  event_id: z.uuid(),
  system_id: z.string(),
  equipment_id: z.string(),
  window_start: z.string(),
  window_end: z.string(),
  score: z.number(),
  severity: z.enum(['none', 'low', 'medium', 'high', 'critical']),
  affected_component: z.enum(['cooler', 'valve', 'pump', 'accumulator']).nullable(),
  components: z.record(z.string(), z.object({ condition: z.number(), degraded: z.boolean(), probability: z.number() })),
  confidence: z.number(),
  model_version: z.string(),
  operating_conditions: operatingConditionsItem
    .nullable()
    .meta({ description: 'How well the training data or the equipment\'s healthy baseline covers the window\'s operating conditions; null when the model version does not assess it' }),
}).meta({ id: 'Anomaly' });
export type AnomalyItem = z.infer<typeof anomalyItem>;

export const analysisStatus = z.object({
  analysis_id: z.uuid(),
  system_id: z.string(),
  from: z.string(),
  to: z.string(),
  mode: z.enum(['sync', 'async']),
  model_version: z.string(),
  status: analysisState,
  progress: z.number().min(0).max(1).meta({ description: 'Windows scored / windows in the range' }),
  attempts: z.number().int(),
  counts: z.object({ windows: z.number().int().nullable(), anomalies: z.number().int().nullable(), already_recorded: z.number().int().nullable() }),
  error: z.string().nullable(),
  requested_at: z.string(),
  updated_at: z.string(),
}).meta({ id: 'Analysis' });
export type AnalysisStatus = z.infer<typeof analysisStatus>;

export const syncAnalysisResult = z.object({
  analysis_id: z.uuid(),
  status: z.enum(['completed', 'failed']),
  counts: z.object({
    windows: z.number().int(),
    dropped_windows: z.number().int(),
    anomalies: z.number().int(),
    already_recorded: z.number().int().meta({ description: 'Anomalies the saga (or an earlier analysis) had recorded already' }),
  }),
  duration_ms: z.number(),
  anomalies: z.array(anomalyItem),
}).meta({ id: 'AnalysisResult' });

export const asyncAnalysisAccepted = z.object({
  analysis_id: z.uuid(),
  status: analysisState,
  status_url: z.string(),
}).meta({ id: 'AnalysisAccepted' });

export type AnalyzeOutcome =
  | { kind: 'sync'; body: z.infer<typeof syncAnalysisResult> }
  | { kind: 'async'; body: z.infer<typeof asyncAnalysisAccepted> }
  | { kind: 'replayed'; analysisId: string };
