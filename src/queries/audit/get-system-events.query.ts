import { z } from 'zod';
import { afterCursorParam } from '../after-cursor.param.js';
import type { Position } from '../../event-store/event-store.js';

/** Opaque cursor = the global position of the last event of the previous page. */
export function encodeCursor(p: Position): string {
  return Buffer.from(`${p.commit}:${p.prepare}`).toString('base64url');
}

export function decodeCursor(cursor: string): Position | undefined {
  const m = /^(\d{1,16}):(\d{1,16})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) return undefined;
  const position = { commit: Number(m[1]), prepare: Number(m[2]) };
  // Beyond 2^53 a number is not the position it names (and PGlite fails on it): no cursor we issued.
  return Number.isSafeInteger(position.commit) && Number.isSafeInteger(position.prepare) ? position : undefined;
}

export const getSystemEventsParams = z.strictObject({
  after: afterCursorParam(decodeCursor, 'Opaque cursor: the `next` of the previous page'),
  limit: z.coerce.number().int().min(1).max(1000).default(100).meta({ description: 'Events per page' }),
  type: z
    .string()
    .regex(/^[A-Za-z]+(,[A-Za-z]+)*$/, 'is one or more event types separated by commas')
    .transform((v) => v.split(','))
    .optional()
    .meta({ description: 'Only these event types (comma-separated), e.g. AnomalyDetected,AnomalyFeedbackRecorded' }),
});

export type GetSystemEventsParams = z.infer<typeof getSystemEventsParams>;

export class GetSystemEventsQuery {
  constructor(
    readonly systemId: string,
    readonly params: GetSystemEventsParams,
  ) {}
}

export interface AuditEvent {
  event_id: string;
  type: string;
  stream: string;
  revision: number;
  position: string;
  occurred_at: string;
  recorded_at: string;
  data: unknown;
  metadata: Record<string, unknown>;
}

export const systemEventsResponse = z
  .object({
    items: z.array(
      z.object({
        event_id: z.string(),
        type: z.string(),
        stream: z.string(),
        revision: z.number().int(),
        position: z.string().meta({ description: 'Opaque global position (usable as `after`)' }),
        occurred_at: z.string(),
        recorded_at: z.string(),
        data: z.unknown().meta({ description: 'The event data as stored (not upcast)' }),
        metadata: z.record(z.string(), z.unknown()).meta({ description: 'correlation_id, causation_id, actor, schema_version, occurred_at, model_version, ...' }),
      }),
    ),
    next: z.string().nullable().meta({ description: 'Cursor of the next page; null on the last page' }),
  })
  .meta({ id: 'SystemEvents' });
