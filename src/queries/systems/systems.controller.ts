import { Controller, Get, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { RequireScope } from '../../http/auth/require-scope.decorator.js';
import { ApiOperation } from '../../http/openapi/api-operation.decorator.js';
import { parseRequest } from '../../http/parse-request.js';
import { listSystemsParams, listSystemsResponse, ListSystemsQuery } from './list-systems.query.js';

@Controller('api/v1/systems')
export class SystemsController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @RequireScope('read')
  @ApiOperation({
    summary: 'Every known system with its equipment, newest reading and open anomalies',
    description: 'By system id. A page ends at `limit` systems or at about 4 MiB of JSON, whichever comes first; `next` (as `after`) continues.',
    tags: ['systems'],
    operationId: 'listSystems',
    query: listSystemsParams,
    responses: {
      200: {
        schema: listSystemsResponse,
        examples: {
          one: {
            items: [
              {
                system_id: 'rig-1',
                last_reading_at: '2026-03-01T09:59:59.000Z',
                open_anomalies: 2,
                equipment: [{ equipment_id: 'press-1', first_reading_at: '2026-02-01T00:00:00.000Z', last_reading_at: '2026-03-01T09:59:59.000Z', samples: 2592000, open_anomalies: 2 }],
              },
            ],
            next: null,
          },
        },
      },
    },
  })
  list(@Query() query: unknown) {
    return this.queries.execute(new ListSystemsQuery(parseRequest(listSystemsParams, query, 'query')));
  }
}
