import type { AppConfig } from '../../config/config.schema.js';
import type { Database } from '../../database/database.js';
import type { LeaseBackend } from './lease-backend.js';
import { LocalLeaseBackend } from './local-lease-backend.js';
import { PostgresAdvisoryLeaseBackend } from './postgres-advisory-lease-backend.js';

/**
 * Embedded PGlite is one process (its data-dir lock sees to that): it holds every lease. On PostgreSQL, session
 * advisory locks on the read-model database; they end with the worker's session (docs/event-store.md).
 */
export function createLeaseBackend(config: AppConfig, database: Database): LeaseBackend {
  if (database.backend === 'pglite' || !config.DATABASE_URL) return new LocalLeaseBackend();
  return new PostgresAdvisoryLeaseBackend(config.DATABASE_URL, { heartbeatMs: config.LEASE_INTERVAL_MS });
}
