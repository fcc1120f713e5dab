import { Controller, Get, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { z } from 'zod';
import { RequireScope } from '../../http/auth/require-scope.decorator.js';
import { ApiOperation } from '../../http/openapi/api-operation.decorator.js';
import { parseRequest } from '../../http/parse-request.js';
import { systemIdParam } from '../system-id.param.js';
import { anomalyTrendQuery, anomalyTrendResponse, GetAnomalyTrendQuery, resolveTrendParams } from './get-anomaly-trend.query.js';
import { unknownSystemResponse } from '../known-system.js';

export const systemPathParams = z.object({ id: systemIdParam });

const zeroBuckets = { low: 0, medium: 0, high: 0, critical: 0 };
const zeroComponents = { cooler: 0, valve: 0, pump: 0, accumulator: 0, unattributed: 0 };

@Controller('api/v1/systems/:id/anomaly-trend')
export class AnomalyTrendController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @RequireScope('read')
  @ApiOperation({
    summary: 'Anomaly counts per time bucket, by severity and component',
    description: 'Empty buckets are returned with zeros. Backed by a projection-maintained hourly rollup, or TimescaleDB continuous aggregates.',
    tags: ['systems'],
    operationId: 'getAnomalyTrend',
    params: systemPathParams,
    query: anomalyTrendQuery,
    responses: {
      404: unknownSystemResponse,
      200: {
        schema: anomalyTrendResponse,
        examples: {
          hourly: {
            system_id: 'rig-1',
            bucket: '1h',
            from: '2026-03-01T00:00:00.000Z',
            to: '2026-03-01T02:00:00.000Z',
            model_version: null,
            source: 'live',
            backend: 'rollup',
            buckets: [
              { bucket: '2026-03-01T00:00:00.000Z', total: 2, by_severity: { ...zeroBuckets, high: 2 }, by_component: { ...zeroComponents, cooler: 2 } },
              { bucket: '2026-03-01T01:00:00.000Z', total: 0, by_severity: zeroBuckets, by_component: zeroComponents },
            ],
          },
        },
      },
    },
  })
  get(@Param('id') id: string, @Query() query: unknown) {
    return this.queries.execute(
      new GetAnomalyTrendQuery(parseRequest(systemIdParam, id, 'path'), resolveTrendParams(parseRequest(anomalyTrendQuery, query, 'query'))),
    );
  }
}
