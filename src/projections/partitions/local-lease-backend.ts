import { randomUUID } from 'node:crypto';
import type { LeaseBackend } from './lease-backend.js';

/** One process owns every lease: embedded PGlite (a single process by its data-dir lock) and single-process tests. */
export class LocalLeaseBackend implements LeaseBackend {
  readonly kind = 'local';
  readonly workerId = `local-${randomUUID()}`;
  readonly leaseBoundMs = 0;
  private readonly names = new Set<string>();

  async start(): Promise<void> {}
  async workers(): Promise<number> {
    return 1;
  }
  async tryAcquire(name: string): Promise<boolean> {
    this.names.add(name);
    return true;
  }
  async heartbeat(): Promise<void> {}
  async release(name: string): Promise<void> {
    this.names.delete(name);
  }
  held(): readonly string[] {
    return [...this.names];
  }
  async close(): Promise<void> {
    this.names.clear();
  }
}
