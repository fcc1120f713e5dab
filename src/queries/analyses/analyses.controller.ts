import { Controller, Get, Param } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { z } from 'zod';
import { analysisStatus, type AnalysisStatus } from '../../commands/analyze-system/analyze-system.command.js';
import { RequireScope } from '../../http/auth/require-scope.decorator.js';
import { ApiOperation } from '../../http/openapi/api-operation.decorator.js';
import { problemResponse } from '../../http/openapi/problem.schema.js';
import { parseRequest } from '../../http/parse-request.js';
import { GetAnalysisQuery } from './get-analysis.query.js';

const analysisIdParam = z.uuid({ error: 'must be an analysis id (uuid)' });

export const analysisStatusExample: AnalysisStatus = {
  analysis_id: '2f0c9a4e-8b1d-4c3e-9f2a-6b7c8d9e0f1a',
  system_id: 'rig-1',
  from: '2024-05-01T00:00:00.000Z',
  to: '2024-05-02T00:00:00.000Z',
  mode: 'async',
  model_version: 'hydraulic-17-1.0.0',
  status: 'running',
  progress: 0.42,
  attempts: 1,
  counts: { windows: null, anomalies: null, already_recorded: null },
  error: null,
  requested_at: '2024-05-02T08:00:00.000Z',
  updated_at: '2024-05-02T08:00:03.000Z',
};

@Controller('api/v1/analyses/:id')
export class AnalysesController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @RequireScope('read')
  @ApiOperation({
    summary: 'Status of an analysis',
    description: 'requested | running | completed | failed, with progress (windows scored / windows in range) and counts.',
    tags: ['analyses'],
    operationId: 'getAnalysis',
    params: z.object({ id: analysisIdParam }),
    responses: { 200: { schema: analysisStatus, examples: { running: analysisStatusExample } }, 404: problemResponse('No analysis with this id') },
  })
  get(@Param('id') id: string) {
    return this.queries.execute(new GetAnalysisQuery(parseRequest(z.object({ id: analysisIdParam }), { id }, 'path').id));
  }
}
