import { randomUUID } from 'node:crypto';
import { JetStreamApiCodes, JetStreamApiError, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { LeaseBackend } from './lease-backend.js';

export interface NatsKvLeaseOptions {
  /** JetStream KV bucket shared by every worker of one deployment. */
  bucket?: string;
  /**
   * The bucket's TTL (its stream's max_age): an entry not renewed for this long disappears. nats-server 2.9 has no
   * per-key TTL, so it is bucket-wide, fixed when the bucket is created; a bucket found with another TTL is refused.
   */
  ttlMs?: number;
  /** The coordinator's tick, which calls heartbeat(); at most half the TTL, so one late tick costs no lease. */
  heartbeatMs?: number;
}

export const DEFAULT_LEASE_BUCKET = 'partition_leases';

interface Held {
  revision: number;
  /** When the request of the last successful renewal was sent: the key lives at least TTL from then. */
  renewedAt: number;
}

/** KV keys allow [-/_=.A-Za-z0-9] in non-empty tokens separated by '.': every other character becomes =XX (UTF-8 bytes). */
export function encodeKvKey(name: string): string {
  if (name.length === 0) throw new Error('a lease name must not be empty');
  return [...Buffer.from(name, 'utf8')]
    .map((byte) => {
      const c = String.fromCharCode(byte);
      return /[-/_A-Za-z0-9]/.test(c) ? c : `=${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
}

const leaseKey = (name: string) => `l.${encodeKvKey(name)}`;
const workerKey = (workerId: string) => `w.${encodeKvKey(workerId)}`;

/** The server's answer "the key's last revision is not the one you named": someone else wrote it, or it expired. */
function isWrongRevision(error: unknown): boolean {
  return (
    error instanceof JetStreamApiError &&
    (error.code === JetStreamApiCodes.StreamWrongLastSequence || error.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Leases in a JetStream KV bucket with a TTL, for deployments whose log is EventStoreDB (no PostgreSQL session to hang
 * advisory locks on). A lease is the key `l.<name>` holding the holder's workerId: acquire = create (refused while a
 * live value is there), renew = update with the last revision on every heartbeat, release = delete with that revision.
 * A dead worker stops renewing, so its keys expire with the bucket's max_age. Live workers are counted by their `w.<id>`
 * keys, renewed by the same heartbeat and purged (no tombstone) on close.
 *
 * leaseBoundMs = TTL + one heartbeat: the key outlives the last renewal by at most the TTL, and the others notice the
 * free lease on their next tick. A worker that cannot reach NATS for a TTL gives its leases up locally (onLost), since
 * the others may take them by then; the fence in the read-model database refuses its late writes either way.
 */
export class NatsKvLeaseBackend implements LeaseBackend {
  readonly kind = 'nats-kv';
  readonly workerId = `worker-${randomUUID()}`;
  readonly leaseBoundMs: number;
  readonly ttlMs: number;
  readonly heartbeatMs: number;
  readonly bucket: string;
  private nc: NatsConnection | undefined;
  private kv: KV | undefined;
  private jsm: JetStreamManager | undefined;
  private workerRevision = 0;
  private readonly leases = new Map<string, Held>();
  private onLost: (names: readonly string[], reason: string) => void = () => undefined;

  constructor(
    private readonly servers: string,
    options: NatsKvLeaseOptions = {},
  ) {
    this.bucket = options.bucket ?? DEFAULT_LEASE_BUCKET;
    this.ttlMs = options.ttlMs ?? 10_000;
    this.heartbeatMs = options.heartbeatMs ?? Math.floor(this.ttlMs / 3);
    if (this.heartbeatMs <= 0 || this.heartbeatMs * 2 > this.ttlMs) {
      throw new Error(`nats-kv leases: the heartbeat (${this.heartbeatMs} ms) must be positive and at most half the TTL (${this.ttlMs} ms)`);
    }
    this.leaseBoundMs = this.ttlMs + this.heartbeatMs;
  }

  async start(onLost: (names: readonly string[], reason: string) => void): Promise<void> {
    this.onLost = onLost;
    // Reconnect for as long as it takes: while NATS is away the local TTL deadline (heartbeat) decides about leases.
    const nc = await connect({ servers: this.servers, name: `anomaly-platform-leases ${this.workerId}`, maxReconnectAttempts: -1, reconnectTimeWait: 500 });
    try {
      const kvm = new Kvm(nc);
      // create() opens an existing bucket unchanged; its TTL then has to be ours, or the bound we report is false.
      const kv = await kvm.create(this.bucket, { ttl: this.ttlMs, history: 1 });
      const ttl = (await kv.status()).ttl;
      if (ttl !== this.ttlMs) {
        throw new Error(
          `nats-kv leases: bucket ${this.bucket} has a TTL of ${ttl} ms, this worker is configured for ${this.ttlMs} ms; ` +
            'align LEASE_TTL_MS or delete the bucket (the fences keep the read models safe while leases are re-taken)',
        );
      }
      this.jsm = await jetstreamManager(nc);
      this.workerRevision = await kv.put(workerKey(this.workerId), this.workerId);
      this.nc = nc;
      this.kv = kv;
    } catch (error) {
      await nc.close();
      throw error;
    }
  }

  private bucketOpen(): KV {
    if (!this.kv) throw new Error('the nats-kv lease backend is not started');
    return this.kv;
  }

  async workers(): Promise<number> {
    this.bucketOpen();
    // One subject per worker key: expired and purged keys hold no message, so the count is the live workers.
    const info = await this.jsm!.streams.info(`KV_${this.bucket}`, { subjects_filter: `$KV.${this.bucket}.w.>` });
    return Math.max(1, Object.keys(info.state.subjects ?? {}).length);
  }

  async tryAcquire(name: string): Promise<boolean> {
    if (this.leases.has(name)) return true;
    const kv = this.bucketOpen();
    const key = leaseKey(name);
    const sentAt = Date.now();
    try {
      const revision = await kv.create(key, this.workerId);
      this.leases.set(name, { revision, renewedAt: sentAt });
      return true;
    } catch (error) {
      if (!isWrongRevision(error)) throw error;
    }
    // Taken: by another live worker, or still by this one (given up locally while NATS was unreachable).
    const entry = await kv.get(key);
    if (entry?.operation !== 'PUT' || entry.string() !== this.workerId) return false;
    try {
      const revision = await kv.update(key, this.workerId, entry.revision);
      this.leases.set(name, { revision, renewedAt: sentAt });
      return true;
    } catch (error) {
      if (isWrongRevision(error)) return false;
      throw error;
    }
  }

  /**
   * Renews the worker key and every held lease. A lease whose update is refused (expired, taken, deleted) is lost;
   * one whose renewal fails otherwise (NATS unreachable) is kept until a TTL has passed since its last renewal.
   * Throws the first such transient error once every lease was handled, so the caller can log it.
   */
  async heartbeat(): Promise<void> {
    const kv = this.bucketOpen();
    let transient: unknown;
    const lost: string[] = [];
    const reasons = new Set<string>();
    await Promise.all([
      (async () => {
        try {
          this.workerRevision = await kv.update(workerKey(this.workerId), this.workerId, this.workerRevision);
        } catch (error) {
          if (!isWrongRevision(error)) return void (transient ??= error);
          // The worker key expired (a long pause): count this worker again. Its leases answer for themselves below.
          this.workerRevision = await kv.put(workerKey(this.workerId), this.workerId).catch((e: unknown) => ((transient ??= e), 0));
        }
      })(),
      ...[...this.leases].map(async ([name, held]) => {
        const sentAt = Date.now();
        try {
          held.revision = await kv.update(leaseKey(name), this.workerId, held.revision);
          held.renewedAt = sentAt;
        } catch (error) {
          // Released meanwhile (its delete came first): nothing was lost.
          if (this.leases.get(name) !== held) return;
          if (isWrongRevision(error)) {
            lost.push(name);
            reasons.add('the lease key expired or was taken by another worker');
          } else if (sentAt - held.renewedAt >= this.ttlMs) {
            lost.push(name);
            reasons.add(`not renewed within the TTL (${this.ttlMs} ms): ${message(error)}`);
          } else transient ??= error;
        }
      }),
    ]);
    for (const name of lost) this.leases.delete(name);
    if (lost.length > 0) this.onLost(lost, [...reasons].join('; '));
    if (transient !== undefined) throw transient;
  }

  async release(name: string): Promise<void> {
    const held = this.leases.get(name);
    if (!held) return;
    this.leases.delete(name);
    const kv = this.bucketOpen();
    try {
      // With the revision: if the key is no longer ours (expired, re-taken), this deletes nothing of another's.
      await kv.delete(leaseKey(name), { previousSeq: held.revision });
    } catch (error) {
      if (!isWrongRevision(error)) throw error;
      // A renewal that raced this release may have moved the revision on: still ours, so delete that one.
      const entry = await kv.get(leaseKey(name));
      if (entry?.operation === 'PUT' && entry.string() === this.workerId) {
        await kv.delete(leaseKey(name), { previousSeq: entry.revision }).catch((e: unknown) => {
          if (!isWrongRevision(e)) throw e;
        });
      }
    }
  }

  held(): readonly string[] {
    return [...this.leases.keys()];
  }

  async close(): Promise<void> {
    const nc = this.nc;
    if (!nc) return;
    try {
      await Promise.all(this.held().map((name) => this.release(name).catch(() => undefined)));
      // Purge, not delete: no tombstone, so the worker count (one subject per worker key) drops at once.
      await this.jsm!.streams.purge(`KV_${this.bucket}`, { filter: `$KV.${this.bucket}.${workerKey(this.workerId)}` }).catch(() => undefined);
    } finally {
      this.leases.clear();
      this.nc = undefined;
      this.kv = undefined;
      await nc.drain().catch(() => nc.close());
    }
  }

  /** Ends the connection without releasing anything, as a killed process would (tests: the TTL must free the leases). */
  async abandon(): Promise<void> {
    const nc = this.nc;
    this.nc = undefined;
    this.kv = undefined;
    await nc?.close();
  }
}
