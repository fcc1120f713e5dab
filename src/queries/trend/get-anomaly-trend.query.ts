import { z } from 'zod';

export const MAX_BUCKETS = 10_000;
const BUCKET_MS = { '1h': 3_600_000, '1d': 86_400_000 } as const;

export const getAnomalyTrendParams = z
  .strictObject({
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    bucket: z.enum(['1h', '1d']).default('1h'),
    model_version: z.string().min(1).max(128).optional(),
    /** live = what production detected; reprojection = a `models reproject` run. Default: see docs/read-models.md. */
    source: z.enum(['live', 'reprojection']).optional(),
  })
  .transform((p, ctx) => {
    const to = p.to ? new Date(p.to) : new Date();
    const from = p.from ? new Date(p.from) : new Date(to.getTime() - (p.bucket === '1h' ? 24 : 30) * BUCKET_MS[p.bucket]);
    if (from >= to) ctx.addIssue({ code: 'custom', path: ['from'], message: 'must be before to' });
    else if ((to.getTime() - from.getTime()) / BUCKET_MS[p.bucket] > MAX_BUCKETS) {
      ctx.addIssue({ code: 'custom', path: ['from'], message: `range holds more than ${MAX_BUCKETS} buckets of ${p.bucket}` });
    }
    return { ...p, from, to };
  });

export type GetAnomalyTrendParams = z.infer<typeof getAnomalyTrendParams>;

export class GetAnomalyTrendQuery {
  constructor(
    readonly systemId: string,
    readonly params: GetAnomalyTrendParams,
  ) {}
}

export interface TrendBucket {
  bucket: string;
  total: number;
  by_severity: Record<string, number>;
  by_component: Record<string, number>;
}

export interface AnomalyTrend {
  system_id: string;
  bucket: '1h' | '1d';
  from: string;
  to: string;
  model_version: string | null;
  source: 'live' | 'reprojection';
  /** Which read model answered: the projection-maintained rollup or TimescaleDB continuous aggregates. */
  backend: 'rollup' | 'timescaledb';
  buckets: TrendBucket[];
}
