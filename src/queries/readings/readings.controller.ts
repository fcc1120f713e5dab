import { Controller, Get, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { parseRequest } from '../../http/parse-request.js';
import { systemIdParam } from '../system-id.param.js';
import { GetReadingsQuery, getReadingsParams } from './get-readings.query.js';

@Controller('api/v1/systems/:id/readings')
export class ReadingsController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  get(@Param('id') id: string, @Query() query: unknown) {
    return this.queries.execute(
      new GetReadingsQuery(parseRequest(systemIdParam, id, 'path'), parseRequest(getReadingsParams, query, 'query')),
    );
  }
}
