import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from 'pino';

/** The correlation id (and the event that caused the current work) for log lines and new events. */
export interface CorrelationContext {
  correlationId: string;
  causationId?: string;
}

const storage = new AsyncLocalStorage<CorrelationContext>();

/**
 * Runs `fn` with a correlation id: every log line written inside (through the shared pino logger or
 * Nest's Logger) carries `correlation_id`. Use it around work that follows from an event:
 * `runWithCorrelation({ correlationId: event.metadata.correlationId, causationId: event.eventId }, () => handle(event))`.
 */
export function runWithCorrelation<T>(context: CorrelationContext, fn: () => T): T {
  return storage.run(context, fn);
}

export function currentCorrelation(): CorrelationContext | undefined {
  return storage.getStore();
}

/** A child logger bound to an event's correlation id, for code that holds a pino logger. */
export function correlatedLogger(logger: Logger, event: { eventId?: string; metadata: { correlationId: string } }): Logger {
  return logger.child({ correlation_id: event.metadata.correlationId, ...(event.eventId ? { causation_id: event.eventId } : {}) });
}
