import { ArgumentsHost, Catch, HttpException, Logger, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ZodError } from 'zod';
import { BatchFormatError, BatchTooLargeError } from '../commands/ingest-readings/parse-batch.js';
import { IdempotencyConflictError } from '../commands/ingest-readings/idempotency-conflict.error.js';
import { TooManySystemsError } from '../commands/ingest-readings/too-many-systems.error.js';
import { EventTooLargeError } from '../events/event-size.js';
import { WrongExpectedRevisionError } from '../event-store/event-store.js';
import { unavailableDependency } from './dependency-unavailable.js';
import { zodFieldErrors } from './parse-request.js';
import type { RouteTable } from './route-table.js';
import { PROBLEM_CONTENT_TYPE, ProblemError, problemTypes, type ProblemKind } from './problem.js';

const logger = new Logger('HTTP');

/** Retry-After on a 503 that carries none of its own (outage, timeout, not ready). */
const OUTAGE_RETRY_AFTER_SECONDS = 5;

const byStatus: Record<number, ProblemKind> = {
  400: 'malformedBody',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'notFound',
  405: 'methodNotAllowed',
  409: 'conflict',
  413: 'payloadTooLarge',
  415: 'unsupportedMediaType',
  429: 'rateLimited',
  503: 'unavailable',
};

/** Maps any error to a problem; never leaks a stack trace or SQL. */
export function toProblem(error: unknown): ProblemError {
  if (error instanceof ProblemError) return error;
  if (error instanceof ZodError) return new ProblemError('validation', 'request is not valid', zodFieldErrors(error));
  if (error instanceof BatchFormatError) return new ProblemError('malformedBody', `${error.field} ${error.message}`, [{ field: error.field, message: error.message }]);
  if (error instanceof BatchTooLargeError) return new ProblemError('payloadTooLarge', error.message, [{ field: 'rows', message: error.message }]);
  if (error instanceof TooManySystemsError) return new ProblemError('payloadTooLarge', error.message, [{ field: 'system_id', message: error.message }]);
  if (error instanceof EventTooLargeError) return new ProblemError('payloadTooLarge', 'the batch makes an event larger than the service stores', [{ field: 'body', message: error.message }]);
  if (error instanceof IdempotencyConflictError) return new ProblemError('idempotencyConflict', error.message, [{ field: 'Idempotency-Key', message: error.message }]);
  if (error instanceof WrongExpectedRevisionError) return new ProblemError('conflict', 'the stream changed concurrently; retry the request');
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const kind = byStatus[status] ?? (status >= 500 ? 'internal' : 'malformedBody');
    // Terminus' 503 carries the per-check results: keep them for operators.
    const body = error.getResponse() as { details?: unknown };
    if (status === 503 && body && typeof body === 'object' && body.details) {
      return new ProblemError('unavailable', 'not ready: at least one check is down', undefined, undefined, { checks: body.details });
    }
    const errors = status === 400 || status === 413 || status === 415 ? [{ field: 'body', message: error.message }] : undefined;
    return new ProblemError(kind, status === 404 ? 'no such route or resource' : error.message, errors);
  }
  // Fastify's own errors (body parser, limits, timeouts) carry a statusCode and a safe message.
  const fastify = error as { statusCode?: number; code?: string; message?: string };
  if (typeof fastify.statusCode === 'number' && fastify.statusCode < 500 && fastify.code?.startsWith('FST_')) {
    const kind = byStatus[fastify.statusCode] ?? 'malformedBody';
    return new ProblemError(kind, fastify.message ?? problemTypes[kind].title, [{ field: 'body', message: fastify.message ?? '' }]);
  }
  if (error instanceof SyntaxError) return new ProblemError('malformedBody', 'body is not valid JSON', [{ field: 'body', message: 'is not valid JSON' }]);
  const down = unavailableDependency(error);
  if (down) {
    return new ProblemError('unavailable', `the ${down.replace('_', ' ')} is not reachable; retry later (an ingest with the same Idempotency-Key, which stores a batch once)`, undefined, { 'retry-after': String(OUTAGE_RETRY_AFTER_SECONDS) }, { dependency: down });
  }
  return new ProblemError('internal', 'the request failed; see the service log for this correlation id');
}

/** `echoUrl: false` for a URL that is itself the problem (too long, not decodable): the answer does not repeat it. */
export function sendProblem(reply: FastifyReply, request: FastifyRequest, error: unknown, echoUrl = true): FastifyReply {
  let problem = toProblem(error);
  if (problem.kind === 'notFound' && error instanceof HttpException) problem = methodNotAllowed(request) ?? problem;
  const doc = problem.toDocument();
  if (doc.status >= 500) logger.error({ err: error, correlation_id: request.id }, 'request failed');
  for (const [k, v] of Object.entries(problem.headers ?? {})) void reply.header(k, v);
  if (doc.status === 503 && !reply.hasHeader('retry-after')) void reply.header('retry-after', String(OUTAGE_RETRY_AFTER_SECONDS));
  return reply
    .status(doc.status)
    .header('content-type', PROBLEM_CONTENT_TYPE)
    .send({ ...doc, ...(echoUrl ? { instance: request.url.split('?')[0] } : {}), correlation_id: String(request.id) });
}

/** A path that exists under other methods is a 405 with Allow, not a 404. */
export function methodNotAllowed(request: FastifyRequest): ProblemError | undefined {
  const table = (request.server as unknown as { routeTable?: RouteTable }).routeTable;
  const allowed = table?.allowedMethods(request.url.split('?')[0]!) ?? [];
  if (!allowed.length || allowed.includes(request.method)) return undefined;
  return new ProblemError('methodNotAllowed', `${request.method} is not supported here; use ${allowed.join(', ')}`, [{ field: 'method', message: `must be one of ${allowed.join(', ')}` }], { allow: allowed.join(', ') });
}

@Catch()
export class ProblemFilter implements ExceptionFilter {
  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    sendProblem(http.getResponse<FastifyReply>(), http.getRequest<FastifyRequest>(), error);
  }
}
