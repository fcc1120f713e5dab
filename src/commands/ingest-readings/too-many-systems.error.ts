/** A batch naming more systems than INGEST_MAX_SYSTEMS (each system is one stream append). */
export class TooManySystemsError extends Error {
  constructor(
    readonly systems: number,
    readonly maxSystems: number,
  ) {
    super(`batch names ${systems} systems; at most ${maxSystems} are accepted per request (INGEST_MAX_SYSTEMS)`);
  }
}
