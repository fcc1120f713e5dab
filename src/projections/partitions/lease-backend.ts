/**
 * Mutual exclusion with liveness for the work units of partitioned workers (issue #19): a lease is held by at most
 * one live worker, and a worker that dies loses its leases within `leaseBoundMs`. Fencing is not the backend's job:
 * every write is checked against `lease_fences` in the read-model database (lease-fence.ts).
 *
 * Backends: `local` (one process owns everything: embedded PGlite), `postgres-advisory` (session advisory locks; they
 * end with the session), `nats-kv` (a JetStream KV bucket with a TTL, for deployments whose log is EventStoreDB).
 * Every backend passes test/partitions/lease-backend.contract.ts.
 */
export interface LeaseBackend {
  readonly kind: 'local' | 'postgres-advisory' | 'nats-kv';
  /** This worker's id (unique per process start). */
  readonly workerId: string;
  /** Worst case from a worker's death until its leases can be taken by another. */
  readonly leaseBoundMs: number;
  /** Joins the worker group; `onLost` hears of leases this worker held and no longer holds (session ended, TTL passed). */
  start(onLost: (names: readonly string[], reason: string) => void): Promise<void>;
  /** Live workers in the group, this one included. */
  workers(): Promise<number>;
  /** Takes the lease if no live worker holds it; true when this worker holds it now. */
  tryAcquire(name: string): Promise<boolean>;
  /** Keeps held leases alive (renews TTLs; checks the session). Reports any lease found gone through `onLost`. */
  heartbeat(): Promise<void>;
  /** Gives one lease up (the work unit was stopped first). */
  release(name: string): Promise<void>;
  /** Names this worker holds. */
  held(): readonly string[];
  /** Releases every lease and leaves the group. */
  close(): Promise<void>;
}
