import { Controller, Get, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { parseRequest } from '../../http/parse-request.js';
import { systemIdParam } from '../system-id.param.js';
import { GetAnomalyTrendQuery, getAnomalyTrendParams } from './get-anomaly-trend.query.js';

@Controller('api/v1/systems/:id/anomaly-trend')
export class AnomalyTrendController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  get(@Param('id') id: string, @Query() query: unknown) {
    return this.queries.execute(
      new GetAnomalyTrendQuery(parseRequest(systemIdParam, id, 'path'), parseRequest(getAnomalyTrendParams, query, 'query')),
    );
  }
}
