import { z } from 'zod';

/** Keyset position (ts, sensor_id, equipment_id) of the last item of a page — the order readings are listed in. */
export interface ReadingsCursor {
  /** microsecond ISO text as the database wrote it: a JavaScript Date would drop the microseconds */
  ts: string;
  sensorId: string;
  equipmentId: string;
}

const shape = z.strictObject({
  t: z.string().regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/).refine((t) => !Number.isNaN(Date.parse(t))),
  s: z.string().min(1).max(128),
  e: z.string().min(1).max(128),
});

/** Opaque to clients: base64url JSON. */
export function encodeReadingsCursor(c: ReadingsCursor): string {
  return Buffer.from(JSON.stringify({ t: c.ts, s: c.sensorId, e: c.equipmentId })).toString('base64url');
}

/** undefined when the text is not a cursor this service issued. */
export function decodeReadingsCursor(text: string): ReadingsCursor | undefined {
  try {
    const parsed = shape.safeParse(JSON.parse(Buffer.from(text, 'base64url').toString('utf8')));
    return parsed.success ? { ts: parsed.data.t, sensorId: parsed.data.s, equipmentId: parsed.data.e } : undefined;
  } catch {
    return undefined;
  }
}
