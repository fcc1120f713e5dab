import { createHash, randomInt, randomUUID } from 'node:crypto';
import pg from 'pg';
import type { LeaseBackend } from './lease-backend.js';

/** Advisory-lock namespaces (the first int4 of the two-key form): leases, and one lock per live worker. */
const LEASE_NS = 0x19_0001;
const WORKER_NS = 0x19_0002;

export interface PostgresAdvisoryLeaseOptions {
  /**
   * How long a dead peer's session may linger: TCP keepalive (idle + interval x count) on the server side. A killed
   * process closes its socket and its session ends at once; this bounds a silent network loss.
   */
  keepaliveIdleSeconds?: number;
  keepaliveIntervalSeconds?: number;
  keepaliveCount?: number;
  /** The coordinator's tick: a free lease is noticed within one. */
  heartbeatMs?: number;
  /** A heartbeat query slower than this counts as a lost session (the worker stops its units; fences stop any write). */
  queryTimeoutMs?: number;
}

/** int4 key of a lease name (collisions only cost balance: both names then move together). */
function lockKey(name: string): number {
  return createHash('md5').update(name, 'utf8').digest().readInt32BE(0);
}

/**
 * Leases as session-level advisory locks on one dedicated connection per worker: PostgreSQL ends them with the session,
 * so a killed worker's leases are free as soon as its socket closes. Live workers are counted in `pg_locks` (each holds
 * one lock in WORKER_NS), with no heartbeat table to clean up.
 */
export class PostgresAdvisoryLeaseBackend implements LeaseBackend {
  readonly kind = 'postgres-advisory';
  readonly workerId = `worker-${randomUUID()}`;
  readonly leaseBoundMs: number;
  private client: pg.Client | undefined;
  private readonly names = new Set<string>();
  private onLost: (names: readonly string[], reason: string) => void = () => undefined;
  private readonly options: Required<PostgresAdvisoryLeaseOptions>;

  constructor(
    private readonly connectionString: string,
    options: PostgresAdvisoryLeaseOptions = {},
  ) {
    this.options = { keepaliveIdleSeconds: 5, keepaliveIntervalSeconds: 2, keepaliveCount: 3, heartbeatMs: 1_000, queryTimeoutMs: 5_000, ...options };
    const o = this.options;
    this.leaseBoundMs = (o.keepaliveIdleSeconds + o.keepaliveIntervalSeconds * o.keepaliveCount) * 1000 + o.heartbeatMs;
  }

  async start(onLost: (names: readonly string[], reason: string) => void): Promise<void> {
    this.onLost = onLost;
    const o = this.options;
    const client = new pg.Client({
      connectionString: this.connectionString,
      application_name: `anomaly-platform-leases ${this.workerId}`,
      keepAlive: true,
      query_timeout: o.queryTimeoutMs,
      connectionTimeoutMillis: o.queryTimeoutMs,
    });
    // A lost session is a lost lease set: reported once, the client is not reused.
    client.on('error', (error) => this.sessionEnded(client, error.message));
    client.on('end', () => this.sessionEnded(client, 'lease session ended'));
    await client.connect();
    await client.query(
      `set tcp_keepalives_idle = ${o.keepaliveIdleSeconds}; set tcp_keepalives_interval = ${o.keepaliveIntervalSeconds}; set tcp_keepalives_count = ${o.keepaliveCount}`,
    );
    await client.query('select pg_advisory_lock($1, $2)', [WORKER_NS, randomInt(-(2 ** 31), 2 ** 31 - 1)]);
    this.client = client;
  }

  private sessionEnded(client: pg.Client, reason: string): void {
    if (this.client !== client) return;
    this.client = undefined;
    client.end().catch(() => undefined);
    const lost = [...this.names];
    this.names.clear();
    this.onLost(lost, reason);
  }

  private session(): pg.Client {
    if (!this.client) throw new Error('the lease session is not open');
    return this.client;
  }

  async workers(): Promise<number> {
    const { rows } = await this.session().query<{ n: string }>(
      `select count(*) as n from pg_locks
        where locktype = 'advisory' and granted and classid = $1::int::oid and objsubid = 2
          and database = (select oid from pg_database where datname = current_database())`,
      [WORKER_NS],
    );
    return Math.max(1, Number(rows[0]!.n));
  }

  async tryAcquire(name: string): Promise<boolean> {
    if (this.names.has(name)) return true;
    const { rows } = await this.session().query<{ ok: boolean }>('select pg_try_advisory_lock($1, $2) as ok', [LEASE_NS, lockKey(name)]);
    if (rows[0]!.ok) this.names.add(name);
    return rows[0]!.ok;
  }

  async heartbeat(): Promise<void> {
    if (!this.client) {
      // Started again after a lost session: a fresh connection, no leases (the coordinator claims anew).
      await this.start(this.onLost);
      return;
    }
    const client = this.client;
    try {
      await client.query('select 1');
    } catch (error) {
      this.sessionEnded(client, error instanceof Error ? error.message : String(error));
    }
  }

  async release(name: string): Promise<void> {
    if (!this.names.delete(name)) return;
    await this.client?.query('select pg_advisory_unlock($1, $2)', [LEASE_NS, lockKey(name)]);
  }

  held(): readonly string[] {
    return [...this.names];
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.names.clear();
    // Ending the session releases every lock it holds.
    await client?.end().catch(() => undefined);
  }
}
