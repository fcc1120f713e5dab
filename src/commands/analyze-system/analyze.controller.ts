import { Body, Controller, Headers, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { RequireScope } from '../../http/auth/require-scope.decorator.js';
import { ApiOperation } from '../../http/openapi/api-operation.decorator.js';
import { problemResponse } from '../../http/openapi/problem.schema.js';
import { parseRequest } from '../../http/parse-request.js';
import { ProblemError } from '../../http/problem.js';
import { RateLimit } from '../../http/rate-limit.js';
import { requestContext } from '../../http/request-context.js';
import { analysisStatusExample } from '../../queries/analyses/analyses.controller.js';
import { GetAnalysisQuery } from '../../queries/analyses/get-analysis.query.js';
import { systemIdParam } from '../../queries/system-id.param.js';
import { unknownSystemResponse } from '../../queries/known-system.js';
import {
  analysisStatus,
  AnalyzeSystemCommand,
  analyzeBody,
  asyncAnalysisAccepted,
  syncAnalysisResult,
  type AnalyzeOutcome,
} from './analyze-system.command.js';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

@Controller('api/v1/systems/:id/analyze')
export class AnalyzeController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post()
  @HttpCode(200)
  @RequireScope('analyze')
  @RateLimit('analyze')
  @ApiOperation({
    summary: 'Analyse a stored range of readings with the ensemble',
    description:
      'Records AnalysisRequested. sync (<= 24 h): scores now and answers with counts and the anomalies found. async: 202 with analysis_id and a status URL (Location); the job runs on the work queue with retries. Anomalies the inference saga already recorded are never duplicated (same deterministic ids). Rate-limited per API key (RATE_LIMIT_ANALYZE_PER_MINUTE). A retry with the same Idempotency-Key returns the same analysis.',
    tags: ['analyses'],
    operationId: 'analyzeSystem',
    params: z.object({ id: systemIdParam }),
    headers: z.object({ 'idempotency-key': z.string().max(200).optional().meta({ description: 'Same key = same analysis (de-duplicated)' }) }),
    body: analyzeBody,
    responses: {
      404: unknownSystemResponse,
      200: {
        description: 'sync: the result; or a replay of an earlier sync request with the same Idempotency-Key (its status)',
        schema: z.union([syncAnalysisResult, analysisStatus]),
        examples: {
          sync: {
            analysis_id: '2f0c9a4e-8b1d-4c3e-9f2a-6b7c8d9e0f1a',
            status: 'completed',
            counts: { windows: 60, dropped_windows: 0, anomalies: 0, already_recorded: 0 },
            duration_ms: 412,
            anomalies: [],
          },
          replay: analysisStatusExample,
        },
      },
      202: {
        description: 'async: accepted; poll status_url. A replay of an earlier async request with the same Idempotency-Key answers 202 with the analysis status (header Idempotent-Replayed: true)',
        schema: z.union([asyncAnalysisAccepted, analysisStatus]),
        headers: z.object({ location: z.string() }),
        examples: { async: { analysis_id: '2f0c9a4e-8b1d-4c3e-9f2a-6b7c8d9e0f1a', status: 'requested', status_url: '/api/v1/analyses/2f0c9a4e-8b1d-4c3e-9f2a-6b7c8d9e0f1a' } },
      },
      422: problemResponse('Idempotency-Key reused with a different body'),
      503: problemResponse('No model loaded'),
    },
  })
  async analyze(
    @Param('id') id: string,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Headers('idempotency-key') idempotencyKey?: string,
  ) {
    const systemId = parseRequest(z.object({ id: systemIdParam }), { id }, 'path').id;
    const parsed = parseRequest(analyzeBody, body, 'body');
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw new ProblemError('validation', 'Idempotency-Key is not valid', [{ field: 'Idempotency-Key', message: 'must be 1-200 visible ASCII characters' }]);
    }
    const outcome = await this.commands.execute<AnalyzeSystemCommand, AnalyzeOutcome>(
      new AnalyzeSystemCommand(systemId, parsed, requestContext(request), idempotencyKey),
    );
    if (outcome.kind === 'sync') return outcome.body;
    if (outcome.kind === 'async') {
      void reply.status(202).header('location', outcome.body.status_url);
      return outcome.body;
    }
    void reply.header('idempotent-replayed', 'true');
    const status = await this.queries.execute(new GetAnalysisQuery(outcome.analysisId));
    if (status.mode === 'async') void reply.status(202).header('location', `/api/v1/analyses/${outcome.analysisId}`);
    return status;
  }
}
