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

/**
 * How well the window's operating conditions are covered (docs/models.md §3, "Unfamiliar conditions"):
 * coverage = share of the version's training windows whose nearest other training window is at least as far
 * as this window's nearest training window (1 typical, near 0 outside the training data); unfamiliar =
 * coverage below the version's limit and no healthy baseline of the equipment for the regime.
 */
export const operatingConditionsSchema = z.object({
  regime: z.string(),
  coverage: z.number().min(0).max(1),
  hasBaseline: z.boolean(),
  unfamiliar: z.boolean(),
});
export type OperatingConditions = z.infer<typeof operatingConditionsSchema>;

/** The same in the HTTP answers (detect, anomalies, sync analyses), in their snake_case. */
export const operatingConditionsItem = z
  .object({
    regime: z.string().meta({ description: "Estimated operating regime (the model version's regimes, e.g. cooler-100)" }),
    coverage: z.number().min(0).max(1).meta({ description: 'Share of training windows at least as far from their nearest training window as this one is (1 typical, near 0 outside the training data)' }),
    has_baseline: z.boolean().meta({ description: "The equipment has an established healthy baseline for this regime" }),
    unfamiliar: z.boolean().meta({ description: 'coverage below the version\'s limit and no baseline: the verdict\'s confidence is halved' }),
  })
  .meta({ id: 'OperatingConditions' });
export type OperatingConditionsItem = z.infer<typeof operatingConditionsItem>;

export function toOperatingConditionsItem(c: OperatingConditions | null | undefined): OperatingConditionsItem | null {
  return c ? { regime: c.regime, coverage: c.coverage, has_baseline: c.hasBaseline, unfamiliar: c.unfamiliar } : null;
}

/**
 * v2 adds `operatingConditions`: null when the model version assesses no coverage (every v1 event). A writer
 * that does not know the field (tools, fixtures) may leave it out: it reads as null, "not assessed".
 */
export const anomalyDetectedV2 = anomalyDetectedV1.extend({
  operatingConditions: operatingConditionsSchema.nullable().default(null),
});

export type AnomalyDetectedDataV1 = z.infer<typeof anomalyDetectedV1>;
export type AnomalyDetectedData = z.infer<typeof anomalyDetectedV2>;

/** v1 -> v2: a v1 decision was made without any coverage assessment, which null says exactly. */
export function upcastAnomalyDetectedV1(data: unknown): unknown {
  return { ...(data as AnomalyDetectedDataV1), operatingConditions: null };
}
export const ANOMALY_DETECTED = 'AnomalyDetected';

/** An operator's verdict; shared by the feedback command, the event and the anomaly read model's API. */
export const verdictSchema = z.enum(['confirmed', 'false_positive']).meta({ id: 'Verdict', description: "An operator's verdict on an anomaly" });

export const anomalyFeedbackRecordedV1 = z.object({
  anomalyId: z.uuid(),
  systemId: z.string(),
  /** The anomaly's equipment: routes the verdict to the anomaly's partition (issue #19); absent in older events. */
  equipmentId: z.string().optional(),
  verdict: verdictSchema,
  actor: z.string(),
  note: z.string().max(2000).optional(),
});
export type AnomalyFeedbackRecordedData = z.infer<typeof anomalyFeedbackRecordedV1>;
export const ANOMALY_FEEDBACK_RECORDED = 'AnomalyFeedbackRecorded';
