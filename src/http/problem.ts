/** RFC 9457 problem details. `type` is a stable relative URI, documented in docs/errors.md. */
export interface FieldError {
  field: string;
  message: string;
  row?: number;
}

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: FieldError[];
  correlation_id?: string;
  [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export const problemTypes = {
  validation: { type: '/problems/validation', title: 'Request is not valid', status: 400 },
  malformedBody: { type: '/problems/malformed-body', title: 'Request body cannot be read', status: 400 },
  unauthorized: { type: '/problems/unauthorized', title: 'Authentication required', status: 401 },
  forbidden: { type: '/problems/forbidden', title: 'Missing scope', status: 403 },
  notFound: { type: '/problems/not-found', title: 'Not found', status: 404 },
  methodNotAllowed: { type: '/problems/method-not-allowed', title: 'Method not allowed', status: 405 },
  conflict: { type: '/problems/conflict', title: 'Conflict', status: 409 },
  payloadTooLarge: { type: '/problems/payload-too-large', title: 'Payload too large', status: 413 },
  requestTimeout: { type: '/problems/request-timeout', title: 'Request timeout', status: 408 },
  uriTooLong: { type: '/problems/uri-too-long', title: 'URI too long', status: 414 },
  unsupportedMediaType: { type: '/problems/unsupported-media-type', title: 'Unsupported media type', status: 415 },
  idempotencyConflict: { type: '/problems/idempotency-key-reused', title: 'Idempotency-Key reused with another body', status: 422 },
  headersTooLarge: { type: '/problems/headers-too-large', title: 'Request header fields too large', status: 431 },
  rateLimited: { type: '/problems/rate-limited', title: 'Too many requests', status: 429 },
  internal: { type: '/problems/internal', title: 'Internal error', status: 500 },
  unavailable: { type: '/problems/unavailable', title: 'Service unavailable', status: 503 },
  timeout: { type: '/problems/timeout', title: 'Request timed out', status: 503 },
  overloaded: { type: '/problems/overloaded', title: 'Ingest paused: scoring is behind', status: 503 },
} as const;

export type ProblemKind = keyof typeof problemTypes;

/** Throw from anywhere in the HTTP layer; the exception filter renders it. */
export class ProblemError extends Error {
  constructor(
    readonly kind: ProblemKind,
    readonly detail: string,
    readonly errors?: FieldError[],
    readonly headers?: Record<string, string>,
    readonly extensions?: Record<string, unknown>,
  ) {
    super(detail);
  }

  toDocument(): ProblemDocument {
    const t = problemTypes[this.kind];
    return { ...t, detail: this.detail, ...(this.errors ? { errors: this.errors } : {}), ...this.extensions };
  }
}
