import { z } from 'zod';

/**
 * An equipment's healthy reference for one operating regime, learned by the inference saga from its first
 * windows in that regime (the commissioning period) — see docs/models.md §3. The reference is what the
 * baseline-deviation member compares later windows with; a re-projection of the same log derives the same
 * references (same windows, same order), so these events are reproducible.
 */
export const baselineEstablishedV1 = z.object({
  systemId: z.string(),
  equipmentId: z.string(),
  /** operating regime (the model version's regime ids, e.g. `cooler-100`) */
  regime: z.string(),
  modelVersion: z.string(),
  source: z.enum(['commissioning']),
  /** how many commissioning windows made it, and the start of the last of them */
  windows: z.object({ count: z.number().int().positive(), last: z.string() }),
  /** window feature names, in the order of mean and std */
  features: z.array(z.string()).min(1),
  mean: z.array(z.number()),
  std: z.array(z.number().positive()),
  /** the reference windows' own leave-one-out deviation (RMS of clipped z-scores) at the 95th percentile */
  selfDeviationP95: z.number().positive(),
});

export type BaselineEstablishedData = z.infer<typeof baselineEstablishedV1>;
export const BASELINE_ESTABLISHED = 'BaselineEstablished';
