import { Controller, Get, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { z } from 'zod';
import { RequireScope } from '../../http/auth/require-scope.decorator.js';
import { ApiOperation } from '../../http/openapi/api-operation.decorator.js';
import { parseRequest } from '../../http/parse-request.js';
import { systemIdParam } from '../system-id.param.js';
import { resolveTrendParams } from '../trend/get-anomaly-trend.query.js';
import { anomalySwimlane, anomalySwimlaneQuery, GetAnomalySwimlaneQuery, type AnomalySwimlane } from './get-anomaly-swimlane.query.js';

@Controller('api/v1/systems/:id/anomaly-swimlane')
export class AnomalySwimlaneController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @RequireScope('read')
  @ApiOperation({
    summary: 'Anomalies per equipment and time bucket (highest severity per cell)',
    tags: ['anomalies'],
    operationId: 'getAnomalySwimlane',
    params: z.object({ id: systemIdParam }),
    query: anomalySwimlaneQuery,
    responses: {
      200: {
        schema: anomalySwimlane,
        examples: {
          day: {
            system_id: 'rig-1',
            bucket: '1h',
            from: '2024-05-01T00:00:00.000Z',
            to: '2024-05-02T00:00:00.000Z',
            equipment: ['press-7', 'press-8'],
            cells: [{ equipment_id: 'press-7', bucket: '2024-05-01T10:00:00.000Z', severity: 'critical', anomalies: 3 }],
          },
        },
      },
    },
  })
  get(@Param('id') id: string, @Query() query: unknown): Promise<AnomalySwimlane> {
    const params = resolveTrendParams(parseRequest(anomalySwimlaneQuery, query, 'query'));
    return this.queries.execute(new GetAnomalySwimlaneQuery(parseRequest(systemIdParam, id, 'path'), params));
  }
}
