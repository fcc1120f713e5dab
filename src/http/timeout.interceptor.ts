import { Inject, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Observable } from 'rxjs';
import type { AppConfig } from '../config/config.schema.js';
import { CONFIG } from '../infrastructure/tokens.js';
import { ProblemError } from './problem.js';

/**
 * Answers 503 problem+json when a handler runs longer than REQUEST_TIMEOUT_MS. The work itself is not
 * cancelled: an ingest that finishes later is still stored once (retry with the same Idempotency-Key).
 * One plain timer per request (rxjs' `timeout` operator cost several times as much on every request).
 */
@Injectable()
export class TimeoutInterceptor implements NestInterceptor {
  constructor(@Inject(CONFIG) private readonly config: AppConfig) {}

  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const ms = this.config.REQUEST_TIMEOUT_MS;
    return new Observable((subscriber) => {
      let timer: NodeJS.Timeout | undefined = setTimeout(() => {
        timer = undefined;
        subscriber.error(new ProblemError('timeout', `the request took longer than ${ms} ms; retry later (with the same Idempotency-Key for ingest)`));
      }, ms);
      const stop = () => {
        if (timer) clearTimeout(timer);
        timer = undefined;
      };
      // Like timeout({ first }): only the first value has to arrive in time.
      const inner = next.handle().subscribe({
        next: (value) => {
          stop();
          subscriber.next(value);
        },
        error: (error: unknown) => {
          stop();
          subscriber.error(error);
        },
        complete: () => {
          stop();
          subscriber.complete();
        },
      });
      return () => {
        stop();
        inner.unsubscribe();
      };
    });
  }
}
