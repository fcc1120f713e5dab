import type { FastifyReply, FastifyRequest } from 'fastify';
import { unauthorized } from '../auth/api-key.guard.js';
import type { AuthenticatedRequest } from '../auth/authenticate.hook.js';
import { methodNotAllowed } from '../problem.filter.js';
import { ProblemError } from '../problem.js';
import { checkRequestText } from './request-text.js';

/** The routes open without a key, as Fastify names them (`/health/live`, `/docs/static/:file`); filled at start-up. */
export class PublicRoutes {
  private readonly urls = new Set<string>();

  add(url: string): void {
    this.urls.add(url);
  }

  has(request: FastifyRequest): boolean {
    const url = request.routeOptions.url;
    return url !== undefined && this.urls.has(url);
  }
}

/**
 * Runs after authenticateHook, before Fastify reads a body: an unknown route (404/405), path or query text no
 * route can use (400), or a missing or invalid key on a route that needs one (401) is answered from the
 * headers alone, so a large body costs its sender the upload and the service nothing.
 */
export function earlyRejectHook(authOn: boolean, open: PublicRoutes) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    // An unread body is not worth draining: the answer closes the connection.
    const close = () => void reply.header('connection', 'close');
    if (request.is404) close();
    if (request.is404) throw methodNotAllowed(request) ?? new ProblemError('notFound', 'no such route or resource');
    const req = request as FastifyRequest & AuthenticatedRequest;
    if (authOn && !open.has(request) && (req.authFailure || !req.apiKeyId)) {
      close();
      throw unauthorized(req.authFailure ?? 'invalid');
    }
    checkRequestText(request.params, request.query);
  };
}
