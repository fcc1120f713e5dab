import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { LogController } from 'fastify';
import type { Logger } from 'pino';
import { AppModule } from './app.module.js';
import type { AppConfig } from './config/config.schema.js';
import { sendProblem } from './http/problem.filter.js';
import { createLogger, PinoNestLogger } from './observability/logger.js';
import { metrics } from './observability/metrics.js';

const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Builds the Nest application on Fastify with everything main.ts and the end-to-end tests share. */
export async function createApp(config: AppConfig, logger: Logger = createLogger(config.LOG_LEVEL)): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    loggerInstance: logger,
    bodyLimit: config.INGEST_MAX_BODY_BYTES,
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    // The correlation id is the request id: accepted from the client when well-formed, generated otherwise.
    requestIdHeader: false,
    logController: new LogController({ requestIdLogLabel: 'correlation_id' }),
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) => {
      const given = req.headers['x-correlation-id'];
      return typeof given === 'string' && CORRELATION_ID.test(given) ? given : randomUUID();
    },
  });
  const fastify = adapter.getInstance();
  fastify.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit: config.INGEST_MAX_BODY_BYTES }, (_req, body, done) =>
    done(null, body),
  );
  fastify.addHook('onRequest', async (request, reply) => {
    void reply.header('x-correlation-id', String(request.id));
  });
  fastify.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpRequestDuration.observe(
      { method: request.method, route, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    logger: new PinoNestLogger(logger),
    bufferLogs: true,
  });
  // Errors raised by Fastify itself (body parsing, limits) and unknown routes get problem+json too.
  fastify.setErrorHandler((error, request, reply) => sendProblem(reply, request, error));
  app.enableShutdownHooks();
  return app;
}
