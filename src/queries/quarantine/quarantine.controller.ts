import { Controller, Get, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { parseRequest } from '../../http/parse-request.js';
import { GetQuarantineQuery, getQuarantineParams } from './get-quarantine.query.js';

@Controller('api/v1/quarantine')
export class QuarantineController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  get(@Query() query: unknown) {
    return this.queries.execute(new GetQuarantineQuery(parseRequest(getQuarantineParams, query, 'query')));
  }
}
