import { Controller, Get, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { RequireScope } from '../../http/auth/require-scope.decorator.js';
import { ApiOperation } from '../../http/openapi/api-operation.decorator.js';
import { readingsResponse } from '../../http/openapi/query.schemas.js';
import { parseRequest } from '../../http/parse-request.js';
import { systemPathParams } from '../trend/anomaly-trend.controller.js';
import { systemIdParam } from '../system-id.param.js';
import { GetReadingsQuery, getReadingsParams } from './get-readings.query.js';
import { unknownSystemResponse } from '../known-system.js';

@Controller('api/v1/systems/:id/readings')
export class ReadingsController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @RequireScope('read')
  @ApiOperation({
    summary: 'Stored sensor readings of a system',
    description:
      'From the sensor_readings read model, oldest first. A later reading for the same (equipment, sensor, ts) replaces an earlier one. ' +
      'A page ends at `limit` items or at about 4 MiB of JSON, whichever comes first; `next` (as `after`) continues.',
    tags: ['systems'],
    operationId: 'listReadings',
    params: systemPathParams,
    query: getReadingsParams,
    responses: {
      404: unknownSystemResponse,
      200: {
        schema: readingsResponse,
        examples: { one: { items: [{ system_id: 'rig-1', equipment_id: 'press-7', sensor_id: 'PS1', ts: '2024-05-01T10:00:00.000Z', v: 151.25, unit: 'bar', meta: null }], next: null } },
      },
    },
  })
  get(@Param('id') id: string, @Query() query: unknown) {
    return this.queries.execute(
      new GetReadingsQuery(parseRequest(systemIdParam, id, 'path'), parseRequest(getReadingsParams, query, 'query')),
    );
  }
}
