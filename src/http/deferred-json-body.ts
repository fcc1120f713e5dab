import { RouteConfig } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyRequest } from 'fastify';

const FLAG = 'deferJsonBody';

/**
 * On a route, a JSON body arrives as a DeferredJsonBody (its bytes) instead of parsed: the handler may pass the
 * text to a worker thread, which parses it there (detect), and parse it itself otherwise.
 * It is the route's Fastify config (RouteConfig), which holds one decorator's object: a route cannot have both
 * this and @RateLimit until they share one config.
 */
export const DeferJsonBody = () => RouteConfig({ [FLAG]: true });

export class DeferredJsonBody {
  constructor(
    /** the body as received */
    readonly bytes: Buffer,
    private readonly parseJson: (bytes: Buffer) => unknown,
  ) {}

  /** The parsed body, exactly as every other route gets it (same parser, same errors, same poisoning rules). */
  parse(): unknown {
    return this.parseJson(this.bytes);
  }
}

type Done = (error: Error | null, body?: unknown) => void;

/**
 * The application's JSON body parser: Fastify's own (what Nest registers by default), except on routes marked
 * with @DeferJsonBody().
 */
export function jsonBodyParser(fastify: FastifyInstance): (request: FastifyRequest, body: Buffer, done: Done) => void {
  const { onProtoPoisoning, onConstructorPoisoning } = fastify.initialConfig;
  // Typed for a string; it takes the Buffer Nest's own registration hands it too (secure-json-parse reads both).
  const parse = fastify.getDefaultJsonParser(onProtoPoisoning ?? 'error', onConstructorPoisoning ?? 'error') as unknown as (
    request: FastifyRequest,
    body: Buffer,
    done: Done,
  ) => void;
  return (request, body, done) => {
    const config = request.routeOptions.config as { [FLAG]?: boolean } | undefined;
    if (!config?.[FLAG]) return parse(request, body, done);
    done(
      null,
      new DeferredJsonBody(body, (bytes) => {
        // Fastify's parser answers through its callback, synchronously; an error is rethrown to the caller.
        let result: { error: Error | null; value?: unknown } | undefined;
        parse(request, bytes, (error, value) => (result = { error, value }));
        if (result!.error) throw result!.error;
        return result!.value;
      }),
    );
  };
}
