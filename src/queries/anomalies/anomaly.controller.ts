import { Controller, Get, Param } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { z } from 'zod';
import { RequireScope } from '../../http/auth/require-scope.decorator.js';
import { ApiOperation } from '../../http/openapi/api-operation.decorator.js';
import { problemResponse } from '../../http/openapi/problem.schema.js';
import { parseRequest } from '../../http/parse-request.js';
import { anomalyListItemExample } from './anomaly.example.js';
import { anomalyDetail, GetAnomalyQuery, type AnomalyDetail } from './get-anomaly.query.js';

const params = z.object({ id: z.uuid().meta({ description: 'The anomaly (its AnomalyDetected event id)' }) });

const example: AnomalyDetail = {
  ...anomalyListItemExample,
  model_version: 'hydraulic-17-1.1.0',
  feedback: 'confirmed',
  votes: { rf: { weight: 0.4, anomaly: true, score: 0.98 }, xgb: { weight: 0.4, anomaly: true, score: 0.95 }, helm: { weight: 0.2, anomaly: true, score: 0.91 } },
  source: 'saga',
  recorded_at: '2024-05-01T10:04:01.120Z',
  source_event_ids: ['0b6f1c1e-3f7a-5c52-9a51-2d8e0b7c4a10'],
  correlation_id: 'plc-7-0001',
  feedback_history: [{ event_id: '8d0f5a3e-1c2b-5d4e-9f60-7a8b9c0d1e2f', actor: 'operator-1', verdict: 'confirmed', note: 'cooler fan worn', recorded_at: '2024-05-01T10:20:00.000Z' }],
};

@Controller('api/v1/anomalies/:id')
export class AnomalyController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @RequireScope('read')
  @ApiOperation({
    summary: 'One anomaly with its votes, component results, audit trail and feedback history',
    tags: ['anomalies'],
    operationId: 'getAnomaly',
    params,
    responses: { 200: { schema: anomalyDetail, examples: { detail: example } }, 404: problemResponse('No such anomaly') },
  })
  get(@Param() input: unknown): Promise<AnomalyDetail> {
    return this.queries.execute(new GetAnomalyQuery(parseRequest(params, input, 'path').id));
  }
}
