import { Controller, Get, Param } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { parseRequest } from '../../http/parse-request.js';
import { systemIdParam } from '../system-id.param.js';
import { GetSystemHealthQuery } from './get-system-health.query.js';

@Controller('api/v1/systems/:id/health')
export class SystemHealthController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  get(@Param('id') id: string) {
    return this.queries.execute(new GetSystemHealthQuery(parseRequest(systemIdParam, id, 'path')));
  }
}
