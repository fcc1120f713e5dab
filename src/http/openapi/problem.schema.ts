import { z } from 'zod';
import { PROBLEM_CONTENT_TYPE, problemTypes } from '../problem.js';
import type { ApiResponseSpec } from './api-operation.decorator.js';

/** RFC 9457 problem details as the API returns them (see src/http/problem.ts, docs/errors.md). */
export const problemSchema = z
  .object({
    type: z.enum(Object.values(problemTypes).map((t) => t.type) as [string, ...string[]]),
    title: z.string(),
    status: z.number().int().min(400).max(599),
    detail: z.string().optional(),
    instance: z.string().optional(),
    correlation_id: z.string().optional(),
    errors: z
      .array(
        z.object({
          field: z.string().meta({ description: 'Field, column, header or parameter that failed' }),
          message: z.string(),
          row: z.number().int().optional().meta({ description: 'Row number (1-based) for batch input' }),
        }),
      )
      .optional(),
  })
  .catchall(z.unknown())
  .meta({ id: 'Problem', description: 'RFC 9457 problem details (application/problem+json)' });

export const correlationIdHeader = z
  .string()
  .max(128)
  .regex(/^[A-Za-z0-9._:-]{1,128}$/)
  .meta({ id: 'CorrelationId', description: 'Correlation id of the request: the one sent in X-Correlation-Id, else generated' });

export const retryAfterHeader = z.string().meta({ description: 'Seconds until the rate-limit window resets' });

/** A problem+json response for `responses`, e.g. `404: problemResponse('No such system')`. */
export function problemResponse(description: string, examples?: Record<string, unknown>): ApiResponseSpec {
  return { description, schema: problemSchema, contentType: PROBLEM_CONTENT_TYPE, ...(examples ? { examples } : {}) };
}
