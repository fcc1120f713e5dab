import { Controller, Get, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { z } from 'zod';
import { RequireScope } from '../../http/auth/require-scope.decorator.js';
import { ApiOperation } from '../../http/openapi/api-operation.decorator.js';
import { parseRequest } from '../../http/parse-request.js';
import { systemIdParam } from '../system-id.param.js';
import { anomalyListItemExample } from './anomaly.example.js';
import { anomaliesPage, GetAnomaliesQuery, getAnomaliesParams, type AnomaliesPage } from './get-anomalies.query.js';
import { unknownSystemResponse } from '../known-system.js';

const example: AnomaliesPage = {
  items: [anomalyListItemExample],
  next_cursor: 'eyJ3IjoiMjAyNC0wNS0wMVQxMDowMzowMC4wMDBaIiwiZSI6IjViMWYwYzdlLTJhNGQtNWU4Zi05YjNjLTFkMmUzZjRhNWI2YyJ9',
};

@Controller('api/v1/systems/:id/anomalies')
export class AnomaliesController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @RequireScope('read')
  @ApiOperation({
    summary: 'Anomalies recorded for a system (newest first)',
    description:
      'Windows the ensemble flagged (AnomalyDetected from the inference saga or an analysis), keyset-paginated: pass next_cursor as cursor. Defaults to the active model version.',
    tags: ['anomalies'],
    operationId: 'listAnomalies',
    params: z.object({ id: systemIdParam }),
    query: getAnomaliesParams,
    responses: { 200: { schema: anomaliesPage, examples: { page: example } }, 404: unknownSystemResponse },
  })
  get(@Param('id') id: string, @Query() query: unknown) {
    return this.queries.execute(new GetAnomaliesQuery(parseRequest(systemIdParam, id, 'path'), parseRequest(getAnomaliesParams, query, 'query')));
  }
}
