import { z } from 'zod';
import { anomalyTrendQuery, type GetAnomalyTrendParams } from '../trend/get-anomaly-trend.query.js';

export const anomalySwimlaneQuery = anomalyTrendQuery.omit({ source: true });

export const swimlaneCell = z
  .object({
    equipment_id: z.string(),
    bucket: z.string().meta({ description: 'Bucket start (UTC)' }),
    severity: z.enum(['low', 'medium', 'high', 'critical']).meta({ description: 'The highest severity of the anomalies in the bucket' }),
    anomalies: z.number().int().positive(),
  })
  .meta({ id: 'SwimlaneCell' });

export const anomalySwimlane = z
  .object({
    system_id: z.string(),
    bucket: z.enum(['1h', '1d']),
    from: z.string(),
    to: z.string(),
    equipment: z.array(z.string()).meta({ description: 'Every equipment of the system (lanes), also those without anomalies' }),
    cells: z.array(swimlaneCell).meta({ description: 'Only buckets holding anomalies' }),
  })
  .meta({ id: 'AnomalySwimlane', description: 'Equipment x time: per bucket the highest severity, as in an anomaly explorer' });
export type AnomalySwimlane = z.infer<typeof anomalySwimlane>;

export class GetAnomalySwimlaneQuery {
  constructor(
    readonly systemId: string,
    readonly params: GetAnomalyTrendParams,
  ) {}
}
