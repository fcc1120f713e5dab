import { z } from 'zod';

export const sampleSchema = z.object({
  ts: z.string(),
  values: z.record(z.string(), z.number()),
  /** Per-sensor `meta` objects of the rows that made this sample, when any were sent. */
  meta: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
});
export type Sample = z.infer<typeof sampleSchema>;

export const readingsIngestedV1 = z.object({
  batchId: z.uuid(),
  systemId: z.string(),
  equipmentId: z.string(),
  source: z.enum(['json', 'csv']),
  /** Position of this chunk among the batch's chunks for this equipment (big batches are split). */
  chunk: z.number().int().nonnegative(),
  samples: z.array(sampleSchema),
  units: z.record(z.string(), z.string()),
});

export type ReadingsIngestedData = z.infer<typeof readingsIngestedV1>;
export const READINGS_INGESTED = 'ReadingsIngested';
export const MAX_SAMPLES_PER_EVENT = 1000;
