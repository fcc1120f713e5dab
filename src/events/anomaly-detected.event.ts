import { z } from 'zod';

export const componentNames = ['cooler', 'valve', 'pump', 'accumulator'] as const;
export const severities = ['none', 'low', 'medium', 'high', 'critical'] as const;

export const componentResultSchema = z.object({
  condition: z.number(),
  degraded: z.boolean(),
  probability: z.number().min(0).max(1),
});

export const anomalyDetectedV1 = z.object({
  systemId: z.string(),
  equipmentId: z.string(),
  window: z.object({ from: z.string(), to: z.string() }),
  score: z.number(),
  severity: z.enum(severities),
  affectedComponent: z.enum(componentNames).nullable(),
  components: z.record(z.enum(componentNames), componentResultSchema),
  confidence: z.number().min(0).max(1),
  modelVersion: z.string(),
  votes: z.record(z.string(), z.object({ weight: z.number(), anomaly: z.boolean(), score: z.number() })),
  /** The ReadingsIngested events whose samples made the window (causation). */
  sourceEventIds: z.array(z.uuid()).min(1),
  /** Set when an analysis (not the live saga) found it. */
  analysisId: z.uuid().optional(),
});

export type AnomalyDetectedData = z.infer<typeof anomalyDetectedV1>;
export const ANOMALY_DETECTED = 'AnomalyDetected';

/** An operator's verdict; shared by the feedback command, the event and the anomaly read model's API. */
export const verdictSchema = z.enum(['confirmed', 'false_positive']).meta({ id: 'Verdict', description: "An operator's verdict on an anomaly" });

export const anomalyFeedbackRecordedV1 = z.object({
  anomalyId: z.uuid(),
  systemId: z.string(),
  verdict: verdictSchema,
  actor: z.string(),
  note: z.string().max(2000).optional(),
});
export type AnomalyFeedbackRecordedData = z.infer<typeof anomalyFeedbackRecordedV1>;
export const ANOMALY_FEEDBACK_RECORDED = 'AnomalyFeedbackRecorded';
