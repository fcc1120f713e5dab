import 'reflect-metadata';
import { AsyncResource } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { NestFactory, Reflector } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import rateLimit from '@fastify/rate-limit';
import { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Bindings, ChildLoggerOptions, Logger } from 'pino';
import { AppModule } from './app.module.js';
import type { AppConfig } from './config/config.schema.js';
import { registerConsole } from './console/console-assets.js';
import { authenticateHook, type AuthenticatedRequest } from './http/auth/authenticate.hook.js';
import { resolveKeyring, type Keyring } from './http/auth/keyring.js';
import { jsonBodyParser } from './http/deferred-json-body.js';
import { registerHandlerTimeout } from './http/handler-timeout.js';
import { registerDocsPage } from './http/openapi/docs-page.js';
import { isContractCheckOn, ResponseValidationInterceptor } from './http/openapi/response-validation.interceptor.js';
import { ProblemError } from './http/problem.js';
import type { RateLimitBucket } from './http/rate-limit.js';
import { RouteTable } from './http/route-table.js';
import { runWithCorrelation } from './observability/correlation.js';
import { createLogger, PinoNestLogger } from './observability/logger.js';
import { metrics } from './observability/metrics.js';

const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const ASYNC_SCOPE = Symbol('correlation-scope');

export interface CreateAppOptions {
  /** Keys to accept instead of resolving them from config (tests). */
  keyring?: Keyring;
}

/** Builds the Nest application on Fastify with everything main.ts and the end-to-end tests share. */
export async function createApp(
  config: AppConfig,
  logger: Logger = createLogger(config.LOG_LEVEL),
  options: CreateAppOptions = {},
): Promise<NestFastifyApplication> {
  const keyring = 'keyring' in options ? options.keyring : resolveKeyring(config, logger);
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
    // Each request's log lines also carry a request id of their own (a retry keeps its correlation id).
    childLoggerFactory: (parent: FastifyBaseLogger, bindings: Bindings, opts: ChildLoggerOptions) => parent.child({ ...bindings, request_id: randomUUID() }, opts),
  });
  const fastify = adapter.getInstance() as unknown as FastifyInstance;

  const routeTable = new RouteTable();
  fastify.decorate('routeTable', routeTable);
  const limits: Record<RateLimitBucket, number> = {
    ingest: config.RATE_LIMIT_INGEST_PER_MINUTE,
    analyze: config.RATE_LIMIT_ANALYZE_PER_MINUTE,
  };
  // Runs before @fastify/rate-limit's own onRoute hook: turns @RateLimit('bucket') into its route config.
  fastify.addHook('onRoute', (route) => {
    routeTable.add(route.method, route.url);
    const config = route.config as { rateLimitBucket?: RateLimitBucket; rateLimit?: unknown } | undefined;
    if (config?.rateLimitBucket) config.rateLimit = { max: limits[config.rateLimitBucket], timeWindow: 60_000 };
  });
  await fastify.register(rateLimit, {
    global: false,
    keyGenerator: (req) => (req as FastifyRequest & AuthenticatedRequest).apiKeyId ?? `ip:${req.ip}`,
    errorResponseBuilder: (_req, ctx) =>
      new ProblemError(
        'rateLimited',
        `at most ${ctx.max} requests per minute for this API key; retry in ${ctx.after}`,
        undefined,
        { 'retry-after': String(Math.max(1, Math.ceil(ctx.ttl / 1000))) },
      ),
  });

  fastify.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit: config.INGEST_MAX_BODY_BYTES }, (_req, body, done) =>
    done(null, body),
  );
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-correlation-id', String(request.id));
    // Log lines and events written while this request is handled carry its correlation id.
    runWithCorrelation({ correlationId: String(request.id) }, () => {
      (request as unknown as Record<symbol, AsyncResource>)[ASYNC_SCOPE] = new AsyncResource('http-request');
      done();
    });
  });
  fastify.addHook('onRequest', authenticateHook(keyring));
  // Body parsing runs in the socket's async context; re-enter the request's before the handler.
  fastify.addHook('preHandler', (request, _reply, done) => {
    const scope = (request as unknown as Record<symbol, AsyncResource | undefined>)[ASYNC_SCOPE];
    if (scope) scope.runInAsyncScope(done);
    else done();
  });
  // after the scope hook: a timed-out request's problem is logged with its correlation id
  registerHandlerTimeout(fastify, config.REQUEST_TIMEOUT_MS);
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
    // Throw instead of process.exit(1): main.ts reports and exits; tests see the error.
    abortOnError: false,
  });
  // Fastify's JSON parser for every route but those that parse their body themselves (@DeferJsonBody: detect).
  app.useBodyParser('application/json', { bodyLimit: config.INGEST_MAX_BODY_BYTES }, jsonBodyParser(fastify));
  registerDocsPage(fastify);
  await registerConsole(fastify);
  // The response contract check is for tests only; outside them no request passes through it.
  if (isContractCheckOn(config)) app.useGlobalInterceptors(new ResponseValidationInterceptor(app.get(Reflector), config));
  // Errors raised by Fastify itself (body parsing, limits, rate limit) reach Nest's error handler, installed at
  // init, which passes them to the global ProblemFilter: problem+json like every other error.
  return app;
}
