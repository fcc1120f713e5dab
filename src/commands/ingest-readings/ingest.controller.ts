import { Controller, Headers, HttpCode, Post, Req, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ProblemError } from '../../http/problem.js';
import { requestContext } from '../../http/request-context.js';
import { metrics } from '../../observability/metrics.js';
import { IngestReadingsCommand, type IngestOutcome } from './ingest-readings.command.js';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

@Controller('api/v1/ingest')
export class IngestController {
  constructor(private readonly commands: CommandBus) {}

  @Post()
  @HttpCode(200)
  async ingest(
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Headers('idempotency-key') idempotencyKey?: string,
  ) {
    const contentType = String(request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const source = contentType === 'text/csv' ? 'csv' : contentType === 'application/json' ? 'json' : undefined;
    if (!source) {
      throw new ProblemError('unsupportedMediaType', 'send application/json or text/csv', [
        { field: 'Content-Type', message: `must be application/json or text/csv, got ${contentType || 'none'}` },
      ]);
    }
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw new ProblemError('validation', 'Idempotency-Key is not valid', [
        { field: 'Idempotency-Key', message: 'must be 1-200 visible ASCII characters' },
      ]);
    }
    try {
      const outcome = await this.commands.execute<IngestReadingsCommand, IngestOutcome>(
        new IngestReadingsCommand(source, request.body, requestContext(request), idempotencyKey),
      );
      metrics.protocolRequests.inc({ protocol: source, outcome: 'ok' });
      metrics.protocolLastSuccess.set({ protocol: source }, Date.now() / 1000);
      if (outcome.replayed) void reply.header('idempotent-replayed', 'true');
      return outcome.result;
    } catch (error) {
      metrics.protocolRequests.inc({ protocol: source, outcome: 'error' });
      throw error;
    }
  }
}
