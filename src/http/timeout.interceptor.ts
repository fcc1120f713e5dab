import { Inject, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { throwError, timeout, type Observable } from 'rxjs';
import type { AppConfig } from '../config/config.schema.js';
import { CONFIG } from '../infrastructure/tokens.js';
import { ProblemError } from './problem.js';

/**
 * Answers 503 problem+json when a handler runs longer than REQUEST_TIMEOUT_MS. The work itself is not
 * cancelled: an ingest that finishes later is still stored once (retry with the same Idempotency-Key).
 */
@Injectable()
export class TimeoutInterceptor implements NestInterceptor {
  constructor(@Inject(CONFIG) private readonly config: AppConfig) {}

  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const ms = this.config.REQUEST_TIMEOUT_MS;
    return next.handle().pipe(
      timeout({
        first: ms,
        with: () =>
          throwError(
            () => new ProblemError('timeout', `the request took longer than ${ms} ms; retry later (with the same Idempotency-Key for ingest)`),
          ),
      }),
    );
  }
}
