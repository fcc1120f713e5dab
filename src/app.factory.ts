import 'reflect-metadata';
import { AsyncResource } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { NestFactory, Reflector } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import rateLimit from '@fastify/rate-limit';
import { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Bindings, ChildLoggerOptions, Logger } from 'pino';
import { AppModule } from './app.module.js';
import type { AppConfig } from './config/config.schema.js';
import { registerConsole } from './console/console-assets.js';
import { runMode } from './config/load-config.js';
import { secureDataDir } from './database/secure-data-dir.js';
import { authenticateHook, type AuthenticatedRequest } from './http/auth/authenticate.hook.js';
import { resolveKeyring, type Keyring } from './http/auth/keyring.js';
import { jsonBodyParser } from './http/deferred-json-body.js';
import { registerHandlerTimeout } from './http/handler-timeout.js';
import { registerDocsPage } from './http/openapi/docs-page.js';
import { isContractCheckOn, ResponseValidationInterceptor } from './http/openapi/response-validation.interceptor.js';
import { ProblemError } from './http/problem.js';
import { sendProblem } from './http/problem.filter.js';
import { clientErrorHandler } from './http/security/client-error.js';
import { earlyRejectHook, PublicRoutes } from './http/security/early-reject.hook.js';
import { SECURITY_HEADERS } from './http/security/security-headers.js';
import { OpenApiDocumentService } from './http/openapi/openapi-document.service.js';
import type { RateLimitBucket } from './http/rate-limit.js';
import { RouteTable } from './http/route-table.js';
import { runWithCorrelation } from './observability/correlation.js';
import { createLogger, PinoNestLogger } from './observability/logger.js';
import { metrics } from './observability/metrics.js';

const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const ASYNC_SCOPE = Symbol('correlation-scope');
/** The one route whose body may be up to INGEST_MAX_BODY_BYTES. */
const INGEST_URL = '/api/v1/ingest';

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
  // Before the key file is written into it: DATA_DIR is owner-only, or the service does not start.
  if (runMode(config) === 'embedded' && !config.DATA_DIR.startsWith('memory://')) secureDataDir(config.DATA_DIR);
  const keyring = 'keyring' in options ? options.keyring : resolveKeyring(config, logger);
  const adapter = new FastifyAdapter({
    loggerInstance: logger,
    bodyLimit: config.INGEST_MAX_BODY_BYTES,
    // The whole request (headers and body) within REQUEST_TIMEOUT_MS, checked every second at most (Node's
    // default check runs every 30 s and headers get 60 s: a trickled body held its socket for 80 s).
    // (At least 1 s to receive a request, also when a test sets a 100-ms handler timeout.)
    requestTimeout: Math.max(1_000, config.REQUEST_TIMEOUT_MS),
    http: {
      headersTimeout: Math.min(Math.max(1_000, config.REQUEST_TIMEOUT_MS), 60_000),
      connectionsCheckingInterval: Math.max(250, Math.min(1_000, Math.floor(config.REQUEST_TIMEOUT_MS / 4))),
    } as never,
    // Node's own 400/408/431 as problem+json, without the URL.
    clientErrorHandler,
    // System ids are up to 128 characters (Fastify's default is 100: longer ids got 414).
    routerOptions: { maxParamLength: 256 },
    // Router errors (bad %-encoding, a path parameter over 256 characters) as problems that do not echo the URL.
    frameworkErrors: (error: Error & { statusCode?: number }, request: FastifyRequest, reply: FastifyReply) =>
      sendProblem(reply, request, new ProblemError(error.statusCode === 414 ? 'uriTooLong' : 'malformedBody', error.statusCode === 414 ? 'a path segment is longer than any identifier (at most 128 characters)' : 'the URL is not valid', [{ field: 'path', message: error.statusCode === 414 ? 'has a segment longer than 256 characters' : 'is not a valid URL' }]), false),
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
  fastify.server.maxConnections = config.MAX_CONNECTIONS;
  const publicRoutes = new PublicRoutes();
  const maxBody = config.MAX_BODY_BYTES;

  const routeTable = new RouteTable();
  fastify.decorate('routeTable', routeTable);
  const limits: Record<RateLimitBucket, number> = {
    ingest: config.RATE_LIMIT_INGEST_PER_MINUTE,
    analyze: config.RATE_LIMIT_ANALYZE_PER_MINUTE,
  };
  // Runs before @fastify/rate-limit's own onRoute hook: turns @RateLimit('bucket') into its route config.
  fastify.addHook('onRoute', (route) => {
    routeTable.add(route.method, route.url);
    // Only ingest takes large bodies; every other route gets MAX_BODY_BYTES (before: the ingest limit everywhere).
    if (route.url !== INGEST_URL) route.bodyLimit = Math.min(route.bodyLimit ?? maxBody, maxBody);
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
    void reply.headers(SECURITY_HEADERS);
    // Log lines and events written while this request is handled carry its correlation id.
    runWithCorrelation({ correlationId: String(request.id) }, () => {
      (request as unknown as Record<symbol, AsyncResource>)[ASYNC_SCOPE] = new AsyncResource('http-request');
      done();
    });
  });
  fastify.addHook('onRequest', authenticateHook(keyring));
  fastify.addHook('onRequest', earlyRejectHook(keyring !== undefined, publicRoutes));
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
  registerDocsPage(fastify, publicRoutes);
  await registerConsole(fastify, publicRoutes);
  for (const route of app.get(OpenApiDocumentService, { strict: false }).routes())
    if (route.public) publicRoutes.add(route.path.replace(/\{(\w+)\}/g, ':$1'));
  // The response contract check is for tests only; outside them no request passes through it.
  if (isContractCheckOn(config)) app.useGlobalInterceptors(new ResponseValidationInterceptor(app.get(Reflector), config));
  // Errors raised by Fastify itself (body parsing, limits, rate limit) reach Nest's error handler, installed at
  // init, which passes them to the global ProblemFilter: problem+json like every other error.
  return app;
}
