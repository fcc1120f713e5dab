// Jest globalSetup: starts the private TimescaleDB cluster for the whole test run (scripts/timescaledb/cluster.sh)
// and hands its URL to the test workers through TEST_TIMESCALEDB_URL; the teardown stops and removes it.
// Plain JavaScript: jest loads global hooks outside its ESM transform. A URL given by the caller (e.g. the compose
// stack's TimescaleDB) is used as it is. Without a build the reason goes to TEST_TIMESCALEDB_UNAVAILABLE.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const CLUSTER_SCRIPT = fileURLToPath(new URL('../../scripts/timescaledb/cluster.sh', import.meta.url));

const run = promisify(execFile);

/** Runs limited to these folders need no database server (unit specs, deployment checks): no cluster for them. */
const NO_DATABASE = ['src', 'test/deploy'];

export default async function startTimescaleCluster(globalConfig) {
  if (process.env.TEST_TIMESCALEDB_URL) return;
  const patterns = (globalConfig.testPathPatterns?.patterns ?? []).map((p) => p.replace(/^\.\//, ''));
  if (patterns.length && patterns.every((p) => NO_DATABASE.some((dir) => p === dir || p.startsWith(`${dir}/`)))) {
    process.env.TEST_TIMESCALEDB_UNAVAILABLE = 'not started for a run of unit specs or deployment checks';
    return;
  }
  try {
    const { stdout } = await run('bash', [CLUSTER_SCRIPT, 'start', '--owner', String(process.pid)]);
    const [url, dir] = stdout.trim().split(' ');
    process.env.TEST_TIMESCALEDB_URL = url;
    globalThis.__timescaleClusterDir = dir;
  } catch (error) {
    const reason = error.code === 3 ? 'TimescaleDB is not built (bash scripts/timescaledb/build.sh)' : String(error.stderr || error).trim();
    process.env.TEST_TIMESCALEDB_UNAVAILABLE = reason;
  }
}
