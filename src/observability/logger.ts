import type { LoggerService } from '@nestjs/common';
import { pino, type DestinationStream, type Logger } from 'pino';
import { currentCorrelation } from './correlation.js';
import { redactRequestUrl } from './redact.js';

interface LoggedRequest {
  method?: string;
  url?: string;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number };
}

export const SERVICE_NAME = 'anomaly-platform';

/**
 * One JSON log stream: level, time, service, and `correlation_id` on every line written while a
 * request or an event's follow-up work runs (from AsyncLocalStorage, unless the logger already binds it).
 * `destination` lets tests capture the lines.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: SERVICE_NAME },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin(merge, _level, logger) {
        const context = currentCorrelation();
        if (!context || 'correlation_id' in merge) return {};
        if ('correlation_id' in (logger as Logger).bindings()) return {};
        return context.causationId
          ? { correlation_id: context.correlationId, causation_id: context.causationId }
          : { correlation_id: context.correlationId };
      },
      // Keys and secrets never reach a log line: no header with a key, no query string value (a key sent as
      // `?api_key=` is refused, but the URL used to be logged whole). Fastify's own `req` serializer gives way to this one.
      serializers: {
        // Fastify's `request completed` line with the route pattern (bounded, unlike the URL): the log shipper keeps
        // it beside correlation_id (deploy/alloy/config.alloy).
        res: responseFields,
        req: (req: LoggedRequest) => ({ method: req.method, url: redactRequestUrl(req.url), host: req.host, remoteAddress: req.ip, remotePort: req.socket?.remotePort }),
      },
      redact: {
        paths: ['req.headers.authorization', 'req.headers["x-api-key"]', 'headers.authorization', 'headers["x-api-key"]'],
        censor: '[redacted]',
      },
    },
    destination,
  );
}

function responseFields(reply: { statusCode?: number; request?: { routeOptions?: { url?: string } } }) {
  return { statusCode: reply.statusCode, route: reply.request?.routeOptions?.url ?? 'unmatched' };
}

/** Nest's logger interface over the same pino instance Fastify uses: one JSON log stream. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  private write(level: 'info' | 'error' | 'warn' | 'debug' | 'trace', message: unknown, params: unknown[]) {
    const context = params.length ? params[params.length - 1] : undefined;
    // instanceof fails for errors from another realm (Jest's vm modules): duck-type.
    if (message instanceof Error || (message && typeof message === 'object' && 'stack' in message && 'message' in message))
      this.logger[level]({ context, err: message }, String((message as Error).message));
    else if (message && typeof message === 'object') {
      // Nest's Logger.error(obj, message, context): keep the message text.
      const text = params.length > 1 && typeof params[0] === 'string' ? params[0] : undefined;
      this.logger[level]({ context, ...(message as object) }, text);
    } else this.logger[level]({ context }, String(message));
  }
  log(message: unknown, ...params: unknown[]) {
    this.write('info', message, params);
  }
  error(message: unknown, ...params: unknown[]) {
    // Nest passes (message, stack, context) for strings and (object, text, context) for objects.
    const objectMessage = !!message && typeof message === 'object' && !(message instanceof Error);
    this.write('error', message, !objectMessage && params.length > 1 ? params.slice(1) : params);
  }
  warn(message: unknown, ...params: unknown[]) {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]) {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]) {
    this.write('trace', message, params);
  }
  fatal(message: unknown, ...params: unknown[]) {
    this.write('error', message, params);
  }
}
