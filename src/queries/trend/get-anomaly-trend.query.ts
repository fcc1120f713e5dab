import { z } from 'zod';
import { ProblemError } from '../../http/problem.js';

export const MAX_BUCKETS = 10_000;
const BUCKET_MS = { '1h': 3_600_000, '1d': 86_400_000 } as const;

export const anomalyTrendQuery = z.strictObject({
  from: z.iso.datetime({ offset: true }).optional().meta({ description: 'Inclusive start (ISO-8601 with zone); default: 24 buckets (1h) or 30 buckets (1d) before `to`' }),
  to: z.iso.datetime({ offset: true }).optional().meta({ description: 'Exclusive end; default now' }),
  bucket: z.enum(['1h', '1d']).default('1h').meta({ description: 'Bucket width, aligned to UTC' }),
  model_version: z.string().min(1).max(128).optional().meta({ description: 'Only this model version (its re-projection when one exists)' }),
  source: z
    .enum(['live', 'reprojection'])
    .optional()
    .meta({ description: 'live = what production detected; reprojection = a `models reproject` run. Default: live, or reprojection when model_version names a re-projected version' }),
});

/** Validated query with the range resolved; a bad range is a 400 naming `from`. */
export function resolveTrendParams(p: z.infer<typeof anomalyTrendQuery>) {
  const to = p.to ? new Date(p.to) : new Date();
  const from = p.from ? new Date(p.from) : new Date(to.getTime() - (p.bucket === '1h' ? 24 : 30) * BUCKET_MS[p.bucket]);
  if (from >= to) throw new ProblemError('validation', 'query has 1 invalid field(s)', [{ field: 'from', message: 'must be before to' }]);
  if ((to.getTime() - from.getTime()) / BUCKET_MS[p.bucket] > MAX_BUCKETS) {
    throw new ProblemError('validation', 'query has 1 invalid field(s)', [{ field: 'from', message: `range holds more than ${MAX_BUCKETS} buckets of ${p.bucket}` }]);
  }
  return { ...p, from, to };
}

export type GetAnomalyTrendParams = ReturnType<typeof resolveTrendParams>;

export class GetAnomalyTrendQuery {
  constructor(
    readonly systemId: string,
    readonly params: GetAnomalyTrendParams,
  ) {}
}

const counts = z.record(z.string(), z.number().int().nonnegative());

export const anomalyTrendResponse = z
  .object({
    system_id: z.string(),
    bucket: z.enum(['1h', '1d']),
    from: z.string(),
    to: z.string(),
    model_version: z.string().nullable(),
    source: z.enum(['live', 'reprojection']),
    backend: z.enum(['rollup', 'timescaledb']).meta({ description: 'rollup = projection-maintained table; timescaledb = continuous aggregates' }),
    buckets: z.array(
      z.object({
        bucket: z.string().meta({ description: 'Bucket start (UTC)' }),
        total: z.number().int().nonnegative(),
        by_severity: counts.meta({ description: 'low, medium, high, critical (zeros included)' }),
        by_component: counts.meta({ description: 'cooler, valve, pump, accumulator, unattributed (zeros included)' }),
      }),
    ),
  })
  .meta({ id: 'AnomalyTrend' });

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
