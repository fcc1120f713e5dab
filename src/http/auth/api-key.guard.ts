import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import type { AppConfig } from '../../config/config.schema.js';
import { CONFIG } from '../../infrastructure/tokens.js';
import { defaultScope } from '../openapi/openapi-document.service.js';
import { ProblemError } from '../problem.js';
import { PUBLIC_ROUTE, REQUIRED_SCOPE } from './require-scope.decorator.js';
import { hasScope, type Scope } from './scopes.js';
import type { AuthenticatedRequest } from './authenticate.hook.js';

const CHALLENGE = { 'www-authenticate': 'Bearer realm="api"' };

/** The 401 for a request without a usable key (also raised by the onRequest hook, before any body is read). */
export function unauthorized(failure: 'missing' | 'invalid'): ProblemError {
  return failure === 'missing'
    ? new ProblemError('unauthorized', 'send an API key as `Authorization: Bearer <key>` or `X-API-Key: <key>`', [{ field: 'Authorization', message: 'is missing' }], CHALLENGE)
    : new ProblemError('unauthorized', 'the API key is not valid', [{ field: 'Authorization', message: 'is not a valid API key' }], CHALLENGE);
}

/** Global guard: the key was checked by the onRequest hook; here the route's scope is enforced. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(CONFIG) private readonly config: AppConfig,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    if (this.config.AUTH === 'off') return true;
    const request = context.switchToHttp().getRequest<FastifyRequest & AuthenticatedRequest>();
    if (request.authFailure || !request.apiKeyId) throw unauthorized(request.authFailure ?? 'invalid');
    const required =
      this.reflector.getAllAndOverride<Scope | undefined>(REQUIRED_SCOPE, targets) ?? defaultScope(request.method.toLowerCase());
    if (!hasScope(request.apiKeyScopes ?? [], required)) {
      throw new ProblemError('forbidden', `API key ${request.apiKeyId} lacks the ${required} scope`, [{ field: 'Authorization', message: `needs scope ${required}` }], undefined, { required_scope: required });
    }
    return true;
  }
}
