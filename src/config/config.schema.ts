import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'on', 'off', 'yes', 'no'])
  .transform((v) => ['true', '1', 'on', 'yes'].includes(v));

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** Every setting the service reads, validated once at start-up. Env names are the keys. */
export const configSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    ROLE: z.enum(['all', 'api', 'worker']).default('all'),
    HOST: z.string().min(1).default('0.0.0.0'),
    PORT: int(0, 65535).default(3000),
    DATA_DIR: z.string().min(1).default('./data'),
    DATABASE_URL: z
      .url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// or postgresql:// URL' })
      .optional(),
    DATABASE_POOL_SIZE: int(2, 200).default(10),
    EVENTSTORE_URL: z
      .string()
      .regex(/^(esdb|kurrentdb|kdb)(\+discover)?:\/\//, 'must be an esdb:// (or kurrentdb://) connection string')
      .optional(),
    NATS_URL: z.string().regex(/^(nats|tls):\/\//, 'must be a nats:// URL').optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    MODELS_DIR: z.string().min(1).default('./models'),
    MODEL_VERSION: z.string().min(1).optional(),
    MODEL_RF: bool.default(true),
    MODEL_XGB: bool.default(true),
    MODEL_HELM: bool.default(true),
    MODEL_ADAPTIVE: bool.default(true),
    INGEST_MAX_ROWS: int(1, 5_000_000).default(100_000),
    INGEST_MAX_BODY_BYTES: int(1024, 512 * 1024 * 1024).default(32 * 1024 * 1024),
    /** Body limit of every route but ingest (detect's largest window, 3,600 samples, is about 1.7 MB). */
    MAX_BODY_BYTES: int(1024, 512 * 1024 * 1024).default(4 * 1024 * 1024),
    /** Most INGEST rows may name this many distinct systems (one stream append each). */
    INGEST_MAX_SYSTEMS: int(1, 100_000).default(100),
    /** Open connections at most; further ones are closed at once. */
    MAX_CONNECTIONS: int(1, 1_000_000).default(1_024),
    /** A request must arrive whole (headers and body) within this, and a handler answer within it (else 408 / 503). */
    REQUEST_TIMEOUT_MS: int(100, 600_000).default(30_000),
    SHUTDOWN_TIMEOUT_MS: int(100, 600_000).default(10_000),
    /** A comment line on every open live stream (GET /api/v1/stream) this often, so proxies keep it open and a dead client is noticed. */
    STREAM_HEARTBEAT_MS: int(100, 600_000).default(15_000),
    /** /health/ready reports down while a projection or the saga is more events than this behind the log head. */
    READY_MAX_LAG_EVENTS: int(0, 100_000_000).default(10_000),
    /**
     * Ingest backpressure: ingest answers 503 + Retry-After while the slowest projection or the saga has left an
     * event unprocessed for longer than 40 % of this (so that, up to twice the rate it sustains, the lag stays
     * under it; docs/reliability.md); 0 switches it off.
     */
    INGEST_MAX_LAG_SECONDS: int(0, 86_400).default(20),
    PROJECTION_BATCH_SIZE: int(1, 100_000).default(500),
    /**
     * P: partitions of the saga and the heavy projections (issue #19). Seeds a new database's setting; afterwards the
     * stored one (table projection_partitioning) wins, and `projections repartition` changes it.
     */
    PARTITIONS: int(1, 1024).optional(),
    /** Consumers a worker runs (comma list, e.g. `inference-saga,sensor_readings`); default every one. */
    WORKER_CONSUMERS: z
      .string()
      .optional()
      .transform((v) => (v ? v.split(',').map((s) => s.trim()).filter(Boolean) : undefined)),
    /** Lease round: heartbeat, fair-share claims and releases. A free lease is taken within about one round. */
    LEASE_INTERVAL_MS: int(100, 60_000).default(1_000),
    /** NATS KV leases (EventStoreDB deployments): the bucket's TTL, at least twice LEASE_INTERVAL_MS; a dead worker's leases are free within TTL + one interval. */
    LEASE_TTL_MS: int(1_000, 600_000).default(10_000),
    /** NATS KV bucket of the leases; default: partition_leases_ + a hash of the event store and database URLs (one group per deployment). */
    LEASE_BUCKET: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - only').optional(),
    SAGA_FLUSH_TIMEOUT_MS: int(1_000, 86_400_000).default(120_000),
    /** Analysis work queue (NATS JetStream stream name, or the in-process queue's name) and its delivery policy. */
    ANALYSIS_QUEUE: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - only').default('ANALYSIS_JOBS'),
    ANALYSIS_MAX_DELIVERIES: int(1, 100).default(5),
    ANALYSIS_ACK_WAIT_MS: int(500, 3_600_000).default(30_000),
    ANALYSIS_BACKOFF_MS: int(10, 3_600_000).default(2_000),
    AUTH: z.enum(['on', 'off']).default('on'),
    API_KEYS: z.string().optional(),
    RATE_LIMIT_INGEST_PER_MINUTE: int(1, 1_000_000).default(600),
    RATE_LIMIT_ANALYZE_PER_MINUTE: int(1, 1_000_000).default(30),
    HEALTH_CACHE_TTL_SECONDS: int(1, 3600).default(30),
    /** NATS KV bucket of the health cache; default: health_cache_ + a hash of the database, so deployments sharing a NATS server never share entries. */
    HEALTH_CACHE_BUCKET: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - only').optional(),
  })
  .readonly();

export type AppConfig = z.infer<typeof configSchema>;
