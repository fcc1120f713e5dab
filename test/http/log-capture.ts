import { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { createLogger } from '../../src/observability/logger.js';

/** A real pino logger whose JSON lines are kept in memory for assertions. */
export function captureLogs(level = 'info'): { logger: Logger; lines: () => Record<string, any>[]; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  const logger = createLogger(level, stream);
  const text = () => chunks.join('');
  return {
    logger,
    text,
    lines: () =>
      text()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, any>),
  };
}
