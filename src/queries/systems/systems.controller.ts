import { Controller, Get } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ListSystemsQuery } from './list-systems.query.js';

@Controller('api/v1/systems')
export class SystemsController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  list() {
    return this.queries.execute(new ListSystemsQuery());
  }
}
