/** scripts/timescaledb/cluster.sh from TypeScript (benchmarks): build if needed, start, stop. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../../src/config/paths.js';

const run = promisify(execFile);
const DIR = join(projectRoot(), 'scripts', 'timescaledb');

export interface PrivateCluster {
  /** Admin URL: superuser postgres, trust authentication, loopback only. */
  url: string;
  stop(): Promise<void>;
}

/** Builds TimescaleDB when it is not cached yet (minutes), then starts a private cluster that preloads it. */
export async function startPrivateCluster(settings: Record<string, string> = {}): Promise<PrivateCluster> {
  await run('bash', [join(DIR, 'build.sh')], { maxBuffer: 16 << 20 });
  const args = Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]);
  const { stdout } = await run('bash', [join(DIR, 'cluster.sh'), 'start', '--owner', String(process.pid), ...args]);
  const [url, dir] = stdout.trim().split(' ');
  return { url: url!, stop: () => run('bash', [join(DIR, 'cluster.sh'), 'stop', dir!]).then(() => undefined) };
}
