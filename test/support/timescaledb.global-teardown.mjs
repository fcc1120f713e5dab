// Jest globalTeardown: stops and removes the cluster timescaledb.global-setup.mjs started (none when a URL was given).
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const CLUSTER_SCRIPT = fileURLToPath(new URL('../../scripts/timescaledb/cluster.sh', import.meta.url));

export default async function stopTimescaleCluster() {
  const dir = globalThis.__timescaleClusterDir;
  if (!dir) return;
  await promisify(execFile)('bash', [CLUSTER_SCRIPT, 'stop', dir]);
  delete process.env.TEST_TIMESCALEDB_URL;
}
