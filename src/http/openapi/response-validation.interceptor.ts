import { Inject, Injectable, Logger, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { tap, type Observable } from 'rxjs';
import type { z } from 'zod';
import type { AppConfig } from '../../config/config.schema.js';
import { CONFIG } from '../../infrastructure/tokens.js';
import { API_OPERATION, isResponseSpec, type ApiOperationSpec } from './api-operation.decorator.js';

export const RESPONSE_MISMATCH = 'response does not match its documented schema';

/**
 * With NODE_ENV=test, checks each successful JSON response against the zod schema its @ApiOperation
 * documents and logs an error naming the mismatching fields, so a contract that drifted from the code
 * shows up in the tests (test/http/openapi.test.ts). Off otherwise: it never changes a response.
 * createApp registers it only when `isContractCheckOn(config)`, so production requests do not pass through it.
 */
export function isContractCheckOn(config: AppConfig): boolean {
  return config.NODE_ENV === 'test' || process.env.NODE_ENV === 'test';
}

@Injectable()
export class ResponseValidationInterceptor implements NestInterceptor {
  private readonly logger = new Logger('ApiContract');

  constructor(
    private readonly reflector: Reflector,
    @Inject(CONFIG) private readonly config: AppConfig,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (!isContractCheckOn(this.config) || context.getType() !== 'http') return next.handle();
    const spec = this.reflector.get<ApiOperationSpec | undefined>(API_OPERATION, context.getHandler());
    const success = spec && Object.entries(spec.responses).find(([status]) => Number(status) >= 200 && Number(status) < 300)?.[1];
    const schema: z.ZodType | undefined = success ? (isResponseSpec(success) ? success.schema : success) : undefined;
    const contentType = success && isResponseSpec(success) ? (success.contentType ?? 'application/json') : 'application/json';
    if (!schema || contentType !== 'application/json') return next.handle();
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    return next.handle().pipe(
      tap((body) => {
        if (body === undefined) return;
        // What the client receives: JSON (dates as strings, undefined dropped).
        const result = schema.safeParse(JSON.parse(JSON.stringify(body)));
        if (!result.success) {
          this.logger.error(
            { route: request.routeOptions.url, method: request.method, issues: result.error.issues.slice(0, 10).map((i) => ({ path: i.path.join('.'), message: i.message })) },
            RESPONSE_MISMATCH,
          );
        }
      }),
    );
  }
}
