import { Controller, Get, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { parseRequest } from '../../http/parse-request.js';
import { systemIdParam } from '../system-id.param.js';
import { GetSystemEventsQuery, getSystemEventsParams } from './get-system-events.query.js';

@Controller('api/v1/systems/:id/events')
export class SystemEventsController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  get(@Param('id') id: string, @Query() query: unknown) {
    return this.queries.execute(
      new GetSystemEventsQuery(parseRequest(systemIdParam, id, 'path'), parseRequest(getSystemEventsParams, query, 'query')),
    );
  }
}
