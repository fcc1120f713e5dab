import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ProblemError } from './problem.js';

const TIMER = Symbol('handler-timeout');
type TimedRequest = FastifyRequest & { [TIMER]?: NodeJS.Timeout };

/**
 * Answers 503 problem+json (`timeout`) when a handler runs longer than `ms`. The work itself is not cancelled:
 * an ingest that finishes later is still stored once (retry with the same Idempotency-Key).
 *
 * Two hooks and one plain timer per request. Not a Nest interceptor: with any global interceptor Nest wraps
 * every request in an rxjs pipeline (about a tenth of a detect request's main-thread CPU). Not Fastify's own
 * `handlerTimeout` either: in Fastify 5.12 the end of a request body cancels it, so it never fires for a POST
 * (fastify/fastify#6725).
 */
export function registerHandlerTimeout(fastify: FastifyInstance, ms: number): void {
  fastify.addHook('preHandler', (request, reply, done) => {
    const timer = setTimeout(() => {
      // answered meanwhile, streaming, or the client has gone: nothing to say
      if (reply.sent || reply.raw.headersSent || reply.raw.destroyed) return;
      void reply.send(new ProblemError('timeout', `the request took longer than ${ms} ms; retry later (with the same Idempotency-Key for ingest)`));
    }, ms);
    // never holds up shutdown
    timer.unref();
    (request as TimedRequest)[TIMER] = timer;
    done();
  });
  fastify.addHook('onResponse', (request, _reply, done) => {
    clearTimeout((request as TimedRequest)[TIMER]);
    done();
  });
}
