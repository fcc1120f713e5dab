import { Controller, Get, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { RequireScope } from '../../http/auth/require-scope.decorator.js';
import { ApiOperation } from '../../http/openapi/api-operation.decorator.js';
import { quarantineResponse } from '../../http/openapi/query.schemas.js';
import { parseRequest } from '../../http/parse-request.js';
import { GetQuarantineQuery, getQuarantineParams } from './get-quarantine.query.js';

@Controller('api/v1/quarantine')
export class QuarantineController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @RequireScope('read')
  @ApiOperation({
    summary: 'Quarantined ingest rows with their reasons',
    tags: ['ingest'],
    operationId: 'listQuarantinedRows',
    query: getQuarantineParams,
    responses: {
      200: {
        schema: quarantineResponse,
        examples: {
          one: {
            items: [
              {
                batch_id: '0b6f1c1e-3f7a-4c52-9a51-2d8e0b7c4a10',
                row: 2,
                system_id: 'rig-1',
                raw: { system_id: 'rig-1', equipment_id: 'press-7', sensor_id: 'PS1', ts: 'yesterday', v: 1 },
                raw_bytes: 83,
                raw_sha256: '3c5e5e8f4d0f4c2b8f6a9d1e0b7c4a103c5e5e8f4d0f4c2b8f6a9d1e0b7c4a10',
                raw_truncated: false,
                reasons: [{ field: 'ts', message: 'must be an ISO-8601 date-time with a zone (Z or ±hh:mm)' }],
                quarantined_at: '2024-05-01T10:00:02.000Z',
              },
            ],
            next: null,
          },
        },
      },
    },
  })
  get(@Query() query: unknown) {
    return this.queries.execute(new GetQuarantineQuery(parseRequest(getQuarantineParams, query, 'query')));
  }
}
