/**
 * The built service (dist/src/main.js) as a child process for benchmarks: its own port, auth off, warn-level
 * log, a developer's .env ignored. CPU time is read from /proc, so a run can report CPU seconds per process
 * (a view that does not depend on what else the shared machine is doing).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../src/config/paths.js';
import { freePort } from '../support/free-port.js';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ; 100 on Linux for every architecture Node runs on). */
const CLK_TCK = 100;

export interface ServiceProcess {
  name: string;
  child: ChildProcess;
  port: number;
  base: string;
  /** ms since the epoch at spawn, and when /health/live first answered (NaN until then). */
  spawnedAt: number;
  readonly liveAt: number;
  /** User + system CPU seconds so far (threads included); the last value read once the process has exited. */
  cpuSeconds(): number;
  /** SIGTERM (graceful shutdown), SIGKILL after `timeoutMs`; resolves with the exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
  /** The last lines the process wrote (for a failure message). */
  output(): string;
}

/** CPU seconds of a process from /proc/<pid>/stat (utime + stime), or undefined once it is gone. */
export function procCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: count fields from the closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return undefined;
  }
}

export async function startService(
  name: string,
  env: Record<string, string>,
  { nodeArgs = [], waitLive = true, timeoutMs = 120_000 }: { nodeArgs?: readonly string[]; waitLive?: boolean; timeoutMs?: number } = {},
): Promise<ServiceProcess> {
  const port = await freePort();
  const spawnedAt = Date.now();
  const child = spawn(process.execPath, [...nodeArgs, join(projectRoot(), 'dist', 'src', 'main.js')], {
    cwd: projectRoot(),
    env: { PATH: process.env.PATH, ENV_FILE: '/nonexistent/.env', HOST: '127.0.0.1', AUTH: 'off', LOG_LEVEL: 'warn', ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const keep = (chunk: Buffer) => (tail = (tail + chunk.toString()).slice(-8000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let lastCpu = 0;
  const cpuSeconds = () => (child.pid !== undefined && child.exitCode === null ? (lastCpu = procCpuSeconds(child.pid) ?? lastCpu) : lastCpu);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const base = `http://127.0.0.1:${port}`;
  let liveAt = NaN;
  const untilLive = async () => {
    const deadline = spawnedAt + timeoutMs;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode} before it was live:\n${tail}`);
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`${name} was not live within ${timeoutMs} ms:\n${tail}`);
      }
      cpuSeconds();
      try {
        if ((await fetch(`${base}/health/live`)).ok) return void (liveAt = Date.now());
      } catch {
        /* not listening yet */
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  // A worker answers /health/live only once it has claimed and started its share of the leases, which on a long
  // log may take minutes: a caller that watches the work itself need not wait for it.
  if (waitLive) await untilLive();
  else void untilLive().catch(() => undefined);
  return {
    name,
    child,
    port,
    base,
    spawnedAt,
    get liveAt() {
      return liveAt;
    },
    cpuSeconds,
    output: () => tail,
    async stop(stopTimeoutMs = 20_000) {
      if (child.exitCode !== null) return child.exitCode;
      cpuSeconds();
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
