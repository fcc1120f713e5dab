import { Controller, Get, Headers, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { RequireScope } from '../../http/auth/require-scope.decorator.js';
import { ApiOperation } from '../../http/openapi/api-operation.decorator.js';
import { parseRequest } from '../../http/parse-request.js';
import { systemIdParam } from '../system-id.param.js';
import { LiveStreamService } from './live-stream.service.js';

export const streamQuery = z.strictObject({ system_id: systemIdParam.optional().meta({ description: 'Only this system; all systems when absent' }) });
const streamHeaders = z.object({
  'last-event-id': z.string().max(64).optional().meta({ description: 'The id of the last message received: the stream resumes right after it' }),
});

@Controller('api/v1/stream')
export class StreamController {
  constructor(private readonly live: LiveStreamService) {}

  @Get()
  @RequireScope('read')
  @ApiOperation({
    summary: 'Live anomalies, health changes and feedback (server-sent events)',
    description:
      'text/event-stream. Messages `anomaly` ({anomaly_id, system_id, equipment_id, window_start, severity, affected_component, model_version}), `feedback` ({anomaly_id, system_id, verdict, actor}) and `health` ({system_id}: re-read its health) are sent once the read models include them. `id:` is the global log position: reconnect with `Last-Event-ID` to miss nothing. A comment line every 15 s keeps proxies from closing the connection; the stream ends when the service shuts down.',
    tags: ['stream'],
    operationId: 'streamLiveEvents',
    query: streamQuery,
    headers: streamHeaders,
    responses: {
      200: {
        contentType: 'text/event-stream',
        schema: z.string().meta({ id: 'ServerSentEvents' }),
        examples: { anomaly: 'id: 1042-1042\nevent: anomaly\ndata: {"anomaly_id":"5b1f0c7e-2a4d-5e8f-9b3c-1d2e3f4a5b6c","system_id":"rig-1","severity":"high"}\n\n' },
      },
    },
  })
  async stream(@Query() query: unknown, @Headers('last-event-id') lastEventId: string | undefined, @Res() reply: FastifyReply): Promise<void> {
    const { system_id } = parseRequest(streamQuery, query, 'query');
    await this.live.open(reply, system_id, lastEventId);
  }
}
