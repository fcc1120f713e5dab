import { Body, Controller, HttpCode, Param, Post, Req } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { RequireScope } from '../../http/auth/require-scope.decorator.js';
import { ApiOperation } from '../../http/openapi/api-operation.decorator.js';
import { problemResponse } from '../../http/openapi/problem.schema.js';
import { parseRequest } from '../../http/parse-request.js';
import { ProblemError } from '../../http/problem.js';
import { requestContext } from '../../http/request-context.js';
import { AnomalyNotFoundError } from './anomaly-not-found.error.js';
import { feedbackBody, feedbackResult, RecordAnomalyFeedbackCommand, type FeedbackResult } from './record-anomaly-feedback.command.js';

export const anomalyIdParams = z.object({ id: z.uuid().meta({ description: 'The anomaly (its AnomalyDetected event id)' }) });

@Controller('api/v1/anomalies/:id/feedback')
export class FeedbackController {
  constructor(private readonly commands: CommandBus) {}

  @Post()
  @HttpCode(200)
  @RequireScope('feedback')
  @ApiOperation({
    summary: "Record an operator's verdict on an anomaly",
    description:
      'Appends AnomalyFeedbackRecorded with the API key id as actor. The same verdict again by the same key is a no-op (recorded: false); a changed verdict is a new event, and the latest verdict counts. Answers once the anomaly read model shows it (up to 5 s).',
    tags: ['anomalies'],
    operationId: 'recordAnomalyFeedback',
    params: anomalyIdParams,
    body: feedbackBody,
    responses: {
      200: {
        schema: feedbackResult,
        examples: { recorded: { recorded: true, anomaly_id: '5b1f0c7e-2a4d-5e8f-9b3c-1d2e3f4a5b6c', verdict: 'false_positive', event_id: '0b6f1c1e-3f7a-5c52-9a51-2d8e0b7c4a10' } },
      },
      404: problemResponse('No such anomaly'),
    },
  })
  async record(@Param() params: unknown, @Body() body: unknown, @Req() request: FastifyRequest): Promise<FeedbackResult> {
    const { id } = parseRequest(anomalyIdParams, params, 'path');
    const { verdict, note } = parseRequest(feedbackBody, body, 'body');
    try {
      return await this.commands.execute(new RecordAnomalyFeedbackCommand(id, verdict, note, requestContext(request)));
    } catch (error) {
      if (error instanceof AnomalyNotFoundError) throw new ProblemError('notFound', error.message);
      throw error;
    }
  }
}
