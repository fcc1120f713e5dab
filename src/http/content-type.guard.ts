import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { API_OPERATION, isBodySpec, type ApiOperationSpec } from './openapi/api-operation.decorator.js';
import { ProblemError } from './problem.js';

/**
 * A body in a content type the route does not document is a 415 naming Content-Type, on every route: Fastify
 * also parses text/plain (and text/csv for ingest), and such a body would otherwise reach the route's schema as
 * a string and come back as a confusing 400. The accepted types are the route's @ApiOperation body content.
 */
@Injectable()
export class ContentTypeGuard implements CanActivate {
  private readonly accepted = new WeakMap<object, readonly string[] | null>();

  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const handler = context.getHandler();
    let types = this.accepted.get(handler);
    if (types === undefined) {
      const body = this.reflector.get<ApiOperationSpec | undefined>(API_OPERATION, handler)?.body;
      types = body ? Object.keys(isBodySpec(body) ? body.content : { 'application/json': body }) : null;
      this.accepted.set(handler, types);
    }
    if (!types) return true;
    const header = context.switchToHttp().getRequest<FastifyRequest>().headers['content-type'];
    // No Content-Type: no body was parsed; the route's own validation says what is missing.
    if (header === undefined) return true;
    const type = header.split(';')[0]!.trim().toLowerCase();
    if (types.includes(type)) return true;
    const expected = types.join(' or ');
    throw new ProblemError('unsupportedMediaType', `send ${expected}`, [{ field: 'Content-Type', message: `must be ${expected}, got ${type || 'none'}` }]);
  }
}
