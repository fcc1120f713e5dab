import { z } from 'zod';
import { systemIdParam } from '../system-id.param.js';

export const compareModelsParams = z
  .strictObject({
    base: z.string().min(1).max(128).meta({ description: 'Usually the production version' }),
    candidate: z.string().min(1).max(128).meta({ description: 'The version to evaluate' }),
    system_id: systemIdParam.optional().meta({ description: 'Only this system' }),
    from: z.iso.datetime({ offset: true }).optional().meta({ description: 'Window start >= from' }),
    to: z.iso.datetime({ offset: true }).optional().meta({ description: 'Window start < to' }),
  })
  .superRefine((p, ctx) => {
    if (p.from && p.to && Date.parse(p.to) <= Date.parse(p.from)) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
  });
export type CompareModelsParams = z.infer<typeof compareModelsParams>;

const count = z.number().int();
export const modelComparison = z
  .object({
    base: z.string(),
    candidate: z.string(),
    sources: z.object({ base: z.enum(['live', 'reprojection']), candidate: z.enum(['live', 'reprojection']) }).meta({
      description: "Where each version's windows come from: its re-projection (every scored window) or what production recorded",
    }),
    windows: count,
    scopes: z.array(
      z.object({
        scope: z.enum(['any', 'cooler', 'valve', 'pump', 'accumulator']),
        flagged_by_base: count,
        flagged_by_candidate: count,
        both: count,
        only_base: count,
        only_candidate: count,
        examples: z.array(z.object({ window: z.string(), flagged_by: z.enum(['base', 'candidate']) })).meta({ description: 'Up to 20 windows flagged by one version only' }),
      }),
    ),
  })
  .meta({ id: 'ModelComparison', description: 'What `models compare` prints, as JSON' });
export type ModelComparison = z.infer<typeof modelComparison>;

export class CompareModelsQuery {
  constructor(readonly params: CompareModelsParams) {}
}
