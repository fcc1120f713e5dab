import { z } from 'zod';

export const modelVersionPromotedV1 = z.object({
  profile: z.string(),
  modelVersion: z.string(),
  previousVersion: z.string().nullable(),
  reason: z.string().max(2000).optional(),
});
export type ModelVersionPromotedData = z.infer<typeof modelVersionPromotedV1>;
export const MODEL_VERSION_PROMOTED = 'ModelVersionPromoted';
