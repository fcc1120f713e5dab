import { Controller, Get, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { z } from 'zod';
import { RequireScope } from '../../http/auth/require-scope.decorator.js';
import { ApiOperation } from '../../http/openapi/api-operation.decorator.js';
import { parseRequest } from '../../http/parse-request.js';
import { systemIdParam } from '../system-id.param.js';
import { anomaliesPage, GetAnomaliesQuery, getAnomaliesParams, type AnomaliesPage } from './get-anomalies.query.js';
import { unknownSystemResponse } from '../known-system.js';

const example: AnomaliesPage = {
  items: [
    {
      event_id: '5b1f0c7e-2a4d-5e8f-9b3c-1d2e3f4a5b6c',
      system_id: 'rig-1',
      equipment_id: 'press-7',
      window_start: '2024-05-01T10:03:00.000Z',
      window_end: '2024-05-01T10:04:00.000Z',
      score: 0.93,
      severity: 'critical',
      affected_component: 'cooler',
      components: {
        cooler: { condition: 3, degraded: true, probability: 0.97 },
        valve: { condition: 100, degraded: false, probability: 0.02 },
        pump: { condition: 0, degraded: false, probability: 0.01 },
        accumulator: { condition: 130, degraded: false, probability: 0.04 },
      },
      confidence: 0.97,
      model_version: 'hydraulic-17-1.2.1',
      feedback: null,
      operating_conditions: { regime: 'cooler-3', coverage: 0.41, has_baseline: true, unfamiliar: false },
    },
  ],
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
