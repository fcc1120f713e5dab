/**
 * Requests an adapter sent to its server on behalf of appends, so the benchmark can report round trips per
 * append without timing anything (src/event-store/*: every adapter counts its own).
 */
export class RoundTrips {
  appends = 0;
  requests = 0;

  get perAppend(): number {
    return this.appends === 0 ? 0 : this.requests / this.appends;
  }

  reset(): void {
    this.appends = 0;
    this.requests = 0;
  }
}
