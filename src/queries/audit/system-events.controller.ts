import { Controller, Get, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { RequireScope } from '../../http/auth/require-scope.decorator.js';
import { ApiOperation } from '../../http/openapi/api-operation.decorator.js';
import { parseRequest } from '../../http/parse-request.js';
import { systemIdParam } from '../system-id.param.js';
import { systemPathParams } from '../trend/anomaly-trend.controller.js';
import { GetSystemEventsQuery, getSystemEventsParams, systemEventsResponse } from './get-system-events.query.js';
import { unknownSystemResponse } from '../known-system.js';

@Controller('api/v1/systems/:id/events')
export class SystemEventsController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @RequireScope('read')
  @ApiOperation({
    summary: 'Audit history: the raw events of one system in global order',
    description: 'Streams readings-{id}, anomalies-{id} and analysis streams whose data names the system, with who/when/why metadata. Paginated by an opaque cursor.',
    tags: ['audit'],
    operationId: 'listSystemEvents',
    params: systemPathParams,
    query: getSystemEventsParams,
    responses: {
      404: unknownSystemResponse,
      200: {
        schema: systemEventsResponse,
        examples: {
          page: {
            items: [
              {
                event_id: '6f1c1c1e-3f0a-4b7e-9a57-0a1b2c3d4e5f',
                type: 'AnomalyFeedbackRecorded',
                stream: 'anomalies-rig-1',
                revision: 4,
                position: 'MTIzOjQ1Ng',
                occurred_at: '2026-03-01T10:02:00.000Z',
                recorded_at: '2026-03-01T10:02:00.012Z',
                data: { anomalyId: '0b9d2d5e-8a43-5b1e-9d0c-1f2e3a4b5c6d', systemId: 'rig-1', verdict: 'confirmed', actor: 'key-ops' },
                metadata: { correlation_id: 'c-42', causation_id: null, actor: 'key-ops', schema_version: 1, occurred_at: '2026-03-01T10:02:00.000Z' },
              },
            ],
            next: null,
          },
        },
      },
    },
  })
  get(@Param('id') id: string, @Query() query: unknown) {
    return this.queries.execute(
      new GetSystemEventsQuery(parseRequest(systemIdParam, id, 'path'), parseRequest(getSystemEventsParams, query, 'query')),
    );
  }
}
