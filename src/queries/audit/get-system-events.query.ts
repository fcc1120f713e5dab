import { z } from 'zod';
import type { Position } from '../../event-store/event-store.js';

/** Opaque cursor = the global position of the last event of the previous page. */
export function encodeCursor(p: Position): string {
  return Buffer.from(`${p.commit}:${p.prepare}`).toString('base64url');
}

export function decodeCursor(cursor: string): Position | undefined {
  const m = /^(\d+):(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  return m ? { commit: Number(m[1]), prepare: Number(m[2]) } : undefined;
}

export const getSystemEventsParams = z.strictObject({
  after: z
    .string()
    .max(200)
    .transform((v, ctx) => {
      const p = decodeCursor(v);
      if (!p) ctx.addIssue({ code: 'custom', message: 'is not a cursor returned as `next`' });
      return p;
    })
    .optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  type: z
    .string()
    .regex(/^[A-Za-z]+(,[A-Za-z]+)*$/, 'is one or more event types separated by commas')
    .transform((v) => v.split(','))
    .optional(),
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
