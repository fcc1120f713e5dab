import { SetMetadata } from '@nestjs/common';
import type { z } from 'zod';

export const API_OPERATION = 'api:operation';

/** One documented response: a zod schema (JSON), or a schema with its own content type, description, headers, examples. */
export interface ApiResponseSpec {
  description?: string;
  /** Omit for a response without a body (e.g. 204). */
  schema?: z.ZodType;
  /** Defaults to application/json. */
  contentType?: string;
  headers?: z.ZodObject;
  /** Named examples; each must validate against `schema` (checked by test/http/openapi.test.ts). */
  examples?: Record<string, unknown>;
}

export interface ApiBodySpec {
  /** One entry per accepted content type, e.g. `{ 'application/json': rows, 'text/csv': csvText }`. */
  content: Record<string, z.ZodType>;
  description?: string;
  required?: boolean;
  /** Named examples per content type; each must validate against that content type's schema. */
  examples?: Record<string, Record<string, unknown>>;
}

/**
 * What a route accepts and returns, as zod schemas. The same schema objects validate the request
 * (`parseRequest(spec.query, request.query, 'query')`) and feed the OpenAPI document, so the two cannot drift.
 * Standard problem+json responses (400, 401, 403, 429, 500) are added by the generator.
 */
export interface ApiOperationSpec {
  summary: string;
  description?: string;
  tags: string[];
  operationId?: string;
  query?: z.ZodObject;
  /** Path parameters, keyed by the `:name` in the route. */
  params?: z.ZodObject;
  headers?: z.ZodObject;
  /** A zod schema (application/json) or a content map. */
  body?: z.ZodType | ApiBodySpec;
  responses: Record<number, z.ZodType | ApiResponseSpec>;
  deprecated?: boolean;
}

/** Declares a route's contract for the OpenAPI document (`/openapi.json`); see docs/api-conventions.md. */
export const ApiOperation = (spec: ApiOperationSpec) => SetMetadata(API_OPERATION, spec);

export function isBodySpec(body: ApiOperationSpec['body']): body is ApiBodySpec {
  return !!body && typeof body === 'object' && 'content' in body && !('_zod' in body);
}

export function isResponseSpec(r: z.ZodType | ApiResponseSpec): r is ApiResponseSpec {
  return !('_zod' in r);
}
