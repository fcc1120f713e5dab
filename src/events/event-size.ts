/**
 * Every event's data is at most MAX_EVENT_BYTES of JSON: a reader (projection, audit page, export) never has to
 * hold a larger one. Writers chunk to EVENT_CHUNK_BYTES, so the bound is met with room to spare.
 */
export const MAX_EVENT_BYTES = 4 * 1024 * 1024;
export const EVENT_CHUNK_BYTES = 1024 * 1024;

export class EventTooLargeError extends Error {
  constructor(
    readonly type: string,
    readonly bytes: number,
  ) {
    super(`${type}: ${bytes} bytes of data; at most ${MAX_EVENT_BYTES} are stored per event`);
  }
}
