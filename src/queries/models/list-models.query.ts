import { z } from 'zod';

const rate = z.number().min(0).max(1).nullable();

export const evaluationMetrics = z
  .object({ n: z.number().int(), fpr: rate, recall: rate, accuracy: rate, macro_f1: rate })
  .meta({ id: 'EvaluationMetrics', description: "The ensemble's out-of-fold cross-validation figures per 60-s cycle, from the manifest" });

export const feedbackRate = z
  .object({
    reviewed: z.number().int().meta({ description: 'Anomalies of this version and component with a verdict' }),
    false_positives: z.number().int(),
    false_positive_rate: rate.meta({ description: 'false_positives / reviewed; null when none was reviewed' }),
  })
  .meta({ id: 'FeedbackRate' });

export const modelVersionItem = z
  .object({
    version: z.string(),
    profile: z.string(),
    created: z.string().nullable().meta({ description: "When the version entered the registry: the manifest's `created` (written by models/train/train.py); null for a manifest entry without one" }),
    active: z.boolean().meta({ description: 'The version the inference saga scores with (last promoted, else the manifest default)' }),
    models: z.array(z.object({ name: z.string(), weight: z.number(), path: z.string() })),
    component_weights: z.record(z.string(), z.record(z.string(), z.number())).meta({ description: 'Per-component weights overriding the defaults' }),
    metrics: z.record(z.string(), evaluationMetrics).nullable().meta({ description: 'Per component; null when the manifest has no cross-validation' }),
    feedback: z.record(z.string(), feedbackRate).meta({ description: "Per affected component (and 'unattributed'), from operators' verdicts" }),
  })
  .meta({ id: 'ModelVersion' });

export const modelVersionList = z
  .object({
    active: z.string(),
    manifest_default: z.string().meta({ description: "The manifest's `active`, used until a version is promoted" }),
    items: z.array(modelVersionItem),
  })
  .meta({ id: 'ModelVersionList' });
export type ModelVersionList = z.infer<typeof modelVersionList>;

export class ListModelsQuery {}
