/**
 * CPU seconds that PostgreSQL spent for one database: the backends serving it (pg_stat_activity), read from
 * /proc while they live. The server's shared background processes (WAL writer, checkpointer) are not included,
 * and other databases on the same server (other users of a shared machine) are not counted.
 */
import type pg from 'pg';
import { procCpuSeconds } from './service-process.js';

export class DatabaseCpu {
  /** pid -> [CPU seconds when first seen (0 for backends started after start()), last CPU seconds read]. */
  private readonly backends = new Map<number, [number, number]>();

  constructor(
    private readonly client: pg.Client,
    private readonly database: string,
  ) {}

  /** Marks the backends open now: only what they spend from here on counts. */
  async start(): Promise<void> {
    this.backends.clear();
    for (const pid of await this.pids()) {
      const cpu = procCpuSeconds(pid);
      if (cpu !== undefined) this.backends.set(pid, [cpu, cpu]);
    }
  }

  /** Reads every backend's CPU now; call often (a backend that ends between two samples loses what it spent since the last). */
  async sample(): Promise<void> {
    for (const pid of await this.pids()) {
      const cpu = procCpuSeconds(pid);
      if (cpu === undefined) continue;
      const seen = this.backends.get(pid);
      if (seen) seen[1] = cpu;
      else this.backends.set(pid, [0, cpu]);
    }
  }

  seconds(): number {
    let total = 0;
    for (const [first, last] of this.backends.values()) total += last - first;
    return total;
  }

  private async pids(): Promise<number[]> {
    const { rows } = await this.client.query<{ pid: number }>('select pid from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [this.database]);
    return rows.map((r) => r.pid);
  }
}

/** Busy CPU seconds of the whole machine (all cores, every process) from /proc/stat. */
export async function machineBusySeconds(): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const cpu = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal ...: busy = all but idle and iowait.
  const busy = cpu.reduce((a, b) => a + b, 0) - cpu[3]! - cpu[4]!;
  return busy / 100;
}
