import { Controller, Get, Param } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { RequireScope } from '../../http/auth/require-scope.decorator.js';
import { ApiOperation } from '../../http/openapi/api-operation.decorator.js';
import { problemResponse } from '../../http/openapi/problem.schema.js';
import { parseRequest } from '../../http/parse-request.js';
import { systemIdParam } from '../system-id.param.js';
import { systemPathParams } from '../trend/anomaly-trend.controller.js';
import { GetSystemHealthQuery, systemHealthResponse } from './get-system-health.query.js';
import { unknownSystemResponse } from '../known-system.js';

const ok = { status: 'ok', condition: null, probability: null, anomaly_id: null, window_start: null, model_version: null } as const;

@Controller('api/v1/systems/:id/health')
export class SystemHealthController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @RequireScope('read')
  @ApiOperation({
    summary: 'Current status per equipment and component',
    description:
      'From the newest live anomalies (windows ending at most lookback_seconds before the newest reading; dismissed ones ignored). Cached for HEALTH_CACHE_TTL_SECONDS; a newly projected anomaly of the system drops the entry.',
    tags: ['systems'],
    operationId: 'getSystemHealth',
    params: systemPathParams,
    responses: {
      200: {
        schema: systemHealthResponse,
        examples: {
          degraded: {
            system_id: 'rig-1',
            status: 'high',
            generated_at: '2026-03-01T10:00:00.000Z',
            lookback_seconds: 600,
            equipment: [
              {
                equipment_id: 'press-1',
                status: 'high',
                last_reading_at: '2026-03-01T09:59:59.000Z',
                open_anomalies: 3,
                components: {
                  cooler: { status: 'high', condition: 20, probability: 0.93, anomaly_id: '0b9d2d5e-8a43-5b1e-9d0c-1f2e3a4b5c6d', window_start: '2026-03-01T09:58:00.000Z', model_version: '2026.03.1' },
                  valve: ok,
                  pump: ok,
                  accumulator: ok,
                },
              },
            ],
          },
        },
      },
      404: unknownSystemResponse,
    },
  })
  get(@Param('id') id: string) {
    return this.queries.execute(new GetSystemHealthQuery(parseRequest(systemIdParam, id, 'path')));
  }
}
