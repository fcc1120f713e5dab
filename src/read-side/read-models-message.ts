import type { Backend } from '../database/database.js';
import type { TimescaleStatus } from '../database/timescale-status.js';

const WHY_NOT: Record<Extract<TimescaleStatus, { timescaledb: false }>['reason'], string> = {
  'not-available': 'no timescaledb extension on the server',
  'not-preloaded':
    'timescaledb is installed on the server but not in shared_preload_libraries (migration 0004 did not create it; add it and restart the server, then migrate a new database or rebuild)',
  'not-installed': 'timescaledb is loadable but was not created in this database',
};

/** The start-up log line that says which read-model path the migrations took (docs/timescaledb.md). */
export function readModelsMessage(backend: Backend, status: TimescaleStatus): string {
  if (status.timescaledb) {
    return `read models on TimescaleDB ${status.version}: hypertables, compression, retention, continuous aggregates for trends`;
  }
  const plain = `read models on plain ${backend === 'pglite' ? 'PGlite' : 'PostgreSQL'}: projection-maintained rollups, date_bin`;
  return backend === 'pglite' ? plain : `${plain} (${WHY_NOT[status.reason]})`;
}
