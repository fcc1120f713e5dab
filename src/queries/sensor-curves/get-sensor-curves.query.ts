import { z } from 'zod';
import { ProblemError } from '../../http/problem.js';

/** The widest range one request may cover: its scan grows with the range, its answer does not. */
export const MAX_CURVE_SPAN_MS = 7 * 86_400_000;

export const sensorCurvesQuery = z.strictObject({
  equipment_id: z.string().min(1).max(128).meta({ description: 'The equipment whose sensors are drawn' }),
  from: z.iso.datetime({ offset: true }).meta({ description: 'Inclusive start (ISO-8601 with zone)' }),
  to: z.iso.datetime({ offset: true }).meta({ description: 'Exclusive end; at most 7 days after `from`' }),
  points: z.coerce
    .number()
    .int()
    .min(2)
    .max(4000)
    .default(600)
    .meta({ description: "Buckets the range is cut into, typically the chart's width in pixels: each sensor gets at most this many (min, max) pairs" }),
});

/** Validated query with the range checked; a bad range is a 400 naming `to`. */
export function resolveCurveParams(p: z.infer<typeof sensorCurvesQuery>) {
  const from = new Date(p.from);
  const to = new Date(p.to);
  const problem = from >= to ? 'must be after from' : to.getTime() - from.getTime() > MAX_CURVE_SPAN_MS ? 'must be at most 7 days after from' : undefined;
  if (problem) throw new ProblemError('validation', 'query has 1 invalid field(s)', [{ field: 'to', message: problem }]);
  return { ...p, from, to };
}

export type SensorCurvesParams = ReturnType<typeof resolveCurveParams>;

export class GetSensorCurvesQuery {
  constructor(
    readonly systemId: string,
    readonly params: SensorCurvesParams,
  ) {}
}

const values = z.array(z.number().nullable());

export const sensorCurves = z
  .object({
    system_id: z.string(),
    equipment_id: z.string(),
    from: z.string(),
    to: z.string(),
    bucket_ms: z.number().meta({ description: 'Width of one bucket in milliseconds ((to - from) / points)' }),
    t: z.array(z.number()).meta({ description: 'Start of each bucket that holds a sample, epoch milliseconds, ascending; shared by every sensor' }),
    sensors: z.array(
      z.object({
        sensor_id: z.string(),
        unit: z.string().nullable(),
        min: values.meta({ description: "The sensor's lowest value in each bucket of `t` (null: no sample of this sensor there)" }),
        max: values.meta({ description: 'The highest value in each bucket of `t`' }),
      }),
    ),
  })
  .meta({
    id: 'SensorCurves',
    description: "One equipment's sensor curves over a range, downsampled on the server to `points` buckets (min and max per bucket, so peaks survive); sensors in natural order",
  });
export type SensorCurves = z.infer<typeof sensorCurves>;
