import { Controller, Headers, HttpCode, Post, Req, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RequireScope } from '../../http/auth/require-scope.decorator.js';
import { ApiOperation } from '../../http/openapi/api-operation.decorator.js';
import { ingestCsvBody, ingestHeaders, ingestJsonBody, ingestResult, QUARANTINE_RULES } from '../../http/openapi/ingest.schemas.js';
import { problemResponse } from '../../http/openapi/problem.schema.js';
import { ProblemError } from '../../http/problem.js';
import { RateLimit } from '../../http/rate-limit.js';
import { requestContext } from '../../http/request-context.js';
import { metrics } from '../../observability/metrics.js';
import { IngestBackpressure } from './ingest-backpressure.js';
import { IngestReadingsCommand, type IngestOutcome } from './ingest-readings.command.js';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

@Controller('api/v1/ingest')
export class IngestController {
  constructor(
    private readonly commands: CommandBus,
    private readonly backpressure: IngestBackpressure,
  ) {}

  @Post()
  @HttpCode(200)
  @RequireScope('ingest')
  @RateLimit('ingest')
  @ApiOperation({
    summary: 'Ingest a batch of sensor readings (JSON or CSV)',
    description:
      'Valid rows become ReadingsIngested events; invalid rows are quarantined (ReadingsQuarantined) with a reason per row and field, ' +
      'and the request still succeeds (200). Only a body that is not a batch at all is refused (400). The quarantine rules:\n' +
      QUARANTINE_RULES.map((r) => `- ${r}`).join('\n'),
    tags: ['ingest'],
    operationId: 'ingestReadings',
    headers: ingestHeaders,
    body: {
      content: { 'application/json': ingestJsonBody, 'text/csv': ingestCsvBody },
      examples: {
        'application/json': {
          rows: [{ system_id: 'rig-1', equipment_id: 'press-7', sensor_id: 'PS1', ts: '2024-05-01T10:00:00Z', v: 151.25, unit: 'bar' }],
          // the second row breaks the rule for v: it is quarantined and the answer lists it (200, quarantined: 1)
          oneQuarantined: [
            { system_id: 'rig-1', equipment_id: 'press-7', sensor_id: 'PS1', ts: '2024-05-01T10:00:00Z', v: 151.2, unit: 'bar' },
            { system_id: 'rig-1', equipment_id: 'press-7', sensor_id: 'PS2', ts: '2024-05-01T10:00:00Z', v: 'abc' },
          ],
        },
        'text/csv': { rows: 'system_id,equipment_id,sensor_id,ts,v,unit\nrig-1,press-7,PS1,2024-05-01T10:00:00Z,151.25,bar\n' },
      },
    },
    responses: {
      200: { schema: ingestResult, examples: { mixed: { batch_id: '0b6f1c1e-3f7a-4c52-9a51-2d8e0b7c4a10', accepted: 1, quarantined: 1, errors: [{ row: 2, field: 'v', message: 'must be a finite number' }], errors_total: 1, more_errors: null } } },
      413: problemResponse('Body larger than INGEST_MAX_BODY_BYTES or more rows than INGEST_MAX_ROWS'),
      415: problemResponse('Content-Type is neither application/json nor text/csv'),
      422: problemResponse('Idempotency-Key reused with a different body'),
      503: problemResponse(
        'Not accepted; retry after `Retry-After` seconds with the same Idempotency-Key: `/problems/overloaded` (nothing stored) while a projection or the inference saga is more than 40 % of INGEST_MAX_LAG_SECONDS behind (backpressure), `/problems/unavailable` while the event store or database is down, `/problems/timeout` past REQUEST_TIMEOUT_MS',
      ),
    },
  })
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
    this.backpressure.admit();
    try {
      const outcome = await this.commands.execute<IngestReadingsCommand, IngestOutcome>(
        new IngestReadingsCommand(source, request.body, requestContext(request), idempotencyKey),
      );
      // A batch whose every row was quarantined was read, but the feed is not healthy: not a success.
      if (outcome.result.accepted > 0) {
        metrics.protocolRequests.inc({ protocol: source, outcome: 'ok' });
        metrics.protocolLastSuccess.set({ protocol: source }, Date.now() / 1000);
      } else metrics.protocolRequests.inc({ protocol: source, outcome: 'rejected' });
      if (outcome.replayed) void reply.header('idempotent-replayed', 'true');
      return outcome.result;
    } catch (error) {
      metrics.protocolRequests.inc({ protocol: source, outcome: 'error' });
      throw error;
    }
  }
}
