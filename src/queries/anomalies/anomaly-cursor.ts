import { z } from 'zod';

/** Keyset position (window_start, event_id) of the last item of a page; opaque to clients (base64url JSON). */
export interface AnomalyCursor {
  windowStart: string;
  eventId: string;
}

const shape = z.strictObject({ w: z.iso.datetime({ offset: true }), e: z.uuid() });

export function encodeCursor(c: AnomalyCursor): string {
  return Buffer.from(JSON.stringify({ w: c.windowStart, e: c.eventId })).toString('base64url');
}

/** undefined when the cursor is not one this service issued. */
export function decodeCursor(raw: string): AnomalyCursor | undefined {
  try {
    const parsed = shape.safeParse(JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')));
    return parsed.success ? { windowStart: parsed.data.w, eventId: parsed.data.e } : undefined;
  } catch {
    return undefined;
  }
}
