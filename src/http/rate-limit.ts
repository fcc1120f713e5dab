import { applyDecorators, SetMetadata } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';

export const RATE_LIMIT_BUCKET = 'http:rate-limit';

/** Rate-limit buckets; per-minute limits come from config (RATE_LIMIT_<BUCKET>_PER_MINUTE). */
export type RateLimitBucket = 'ingest' | 'analyze';

/**
 * Limits a route per API key (per client IP when auth is off): 429 problem+json with Retry-After.
 * app.factory.ts turns the route config into an @fastify/rate-limit configuration with the configured limit.
 */
export const RateLimit = (bucket: RateLimitBucket) =>
  applyDecorators(RouteConfig({ rateLimitBucket: bucket }), SetMetadata(RATE_LIMIT_BUCKET, bucket));
