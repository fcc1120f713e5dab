import { Controller, Get, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { registry, scrapeMetrics } from '../observability/metrics.js';
import { Public } from './auth/require-scope.decorator.js';
import { ApiOperation } from './openapi/api-operation.decorator.js';

@Controller('metrics')
export class MetricsController {
  @Get()
  @Public()
  @ApiOperation({
    summary: 'Prometheus metrics',
    description: 'Prometheus text exposition format. Metric names and their meaning: docs/metrics.md.',
    tags: ['operations'],
    operationId: 'getMetrics',
    responses: {
      200: {
        description: 'Metrics in the Prometheus text format',
        contentType: 'text/plain; version=0.0.4',
        schema: z.string(),
        examples: { counter: '# HELP readings_accepted_total Sensor values accepted by ingest\n# TYPE readings_accepted_total counter\nreadings_accepted_total{protocol="json"} 3\n' },
      },
    },
  })
  async metrics(@Res() reply: FastifyReply) {
    const body = await scrapeMetrics();
    return reply.header('content-type', registry.contentType).send(body);
  }
}
