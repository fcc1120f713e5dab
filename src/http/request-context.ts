import type { FastifyRequest } from 'fastify';
import type { RequestContext } from '../commands/ingest-readings/ingest-readings.command.js';

/** Correlation id (Fastify's request id, taken from X-Correlation-Id) and the authenticated key id. */
export function requestContext(request: FastifyRequest): RequestContext {
  const actor = (request as FastifyRequest & { apiKeyId?: string }).apiKeyId ?? 'anonymous';
  return { correlationId: String(request.id), actor };
}
