import { z } from 'zod';
import { anomalyItem } from '../../commands/analyze-system/analyze-system.command.js';
import { componentNames, severities, verdictSchema } from '../../events/anomaly-detected.event.js';
import { decodeCursor } from './anomaly-cursor.js';

const list = <T extends string>(values: readonly [T, ...T[]], name: string) =>
  z
    .string()
    .transform((s, ctx) => {
      const items = s.split(',').map((x) => x.trim()).filter(Boolean);
      const bad = items.filter((x) => !(values as readonly string[]).includes(x));
      if (bad.length) ctx.addIssue({ code: 'custom', message: `unknown ${name} ${bad.join(', ')}; one or more of ${values.join(', ')}` });
      return items as T[];
    })
    .meta({ description: `Comma-separated ${name}s` });

export const getAnomaliesParams = z
  .strictObject({
    from: z.iso.datetime({ offset: true }).optional().meta({ description: 'Window start >= from' }),
    to: z.iso.datetime({ offset: true }).optional().meta({ description: 'Window start < to' }),
    severity: list(severities, 'severity').optional(),
    component: list(componentNames, 'component').optional(),
    model_version: z.string().min(1).max(128).optional().meta({ description: 'Default: the active model version' }),
    equipment_id: z.string().min(1).max(128).optional().meta({ description: 'Only this equipment' }),
    verdict: list(['confirmed', 'false_positive', 'none'] as const, 'verdict')
      .optional()
      .meta({ description: 'Comma-separated current verdicts: confirmed, false_positive, none (no feedback yet)' }),
    cursor: z
      .string()
      .max(512)
      .refine((c) => decodeCursor(c) !== undefined, 'is not a cursor returned by this endpoint')
      .optional()
      .meta({ description: 'next_cursor of the previous page' }),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .superRefine((p, ctx) => {
    if (p.from && p.to && Date.parse(p.to) <= Date.parse(p.from)) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
  });
export type GetAnomaliesParams = z.infer<typeof getAnomaliesParams>;

/** A recorded anomaly with the current (latest) operator verdict. */
export const anomalyListItem = anomalyItem.extend({
  feedback: verdictSchema.nullable().meta({ description: 'The latest verdict given on it; null before any feedback' }),
});

export const anomaliesPage = z.object({
  items: z.array(anomalyListItem),
  next_cursor: z.string().nullable().meta({ description: 'Pass as cursor for the next (older) page; null on the last page' }),
}).meta({ id: 'AnomaliesPage' });
export type AnomaliesPage = z.infer<typeof anomaliesPage>;

export class GetAnomaliesQuery {
  constructor(
    readonly systemId: string,
    readonly params: GetAnomaliesParams,
  ) {}
}
