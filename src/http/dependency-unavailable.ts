/**
 * Which dependency an error says is unreachable, if any: the SQL database / event store (node-postgres,
 * PGlite closed), NATS, or EventStoreDB. Such a request is answered 503 with Retry-After (issue #17: outages
 * answer clearly instead of 500), and the client retries, with the same Idempotency-Key for ingest.
 */
export type Dependency = 'database' | 'nats' | 'event_store';

const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
// SQLSTATE class 08 (connection exception), 57P01-57P03 (server shutting down / starting up), 53300 (too many connections)
const PG_STATES = /^(08...|57P0[123]|53300)$/;
const PG_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Cannot use a pool after calling end|the database system is (starting up|shutting down|in recovery mode)|terminating connection due to administrator command/i;
const NATS_NAMES = /^(ConnectionError|ClosedConnectionError|TimeoutError|RequestError|NoRespondersError|DrainingConnectionError|JetStreamNotEnabled)$/;

export function unavailableDependency(error: unknown, depth = 0): Dependency | undefined {
  if (!error || typeof error !== 'object' || depth > 3) return undefined;
  const e = error as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown; constructor?: { name?: string } };
  const name = typeof e.name === 'string' ? e.name : '';
  const message = typeof e.message === 'string' ? e.message : '';
  const code = typeof e.code === 'string' ? e.code : '';
  if (NATS_NAMES.test(name) || /nats/i.test(e.constructor?.name ?? '')) return 'nats';
  if (/^(UnavailableError|NotLeaderError|DeadlineExceeded)/.test(name)) return 'event_store';
  if (PG_STATES.test(code) || PG_MESSAGES.test(message)) return 'database';
  if (SOCKET_CODES.has(code)) return 'database';
  return unavailableDependency(e.cause, depth + 1);
}
