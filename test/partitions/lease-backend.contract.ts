import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { LeaseBackend } from '../../src/projections/partitions/lease-backend.js';

/**
 * The one contract every LeaseBackend passes (src/projections/partitions/lease-backend.ts), run once per backend from
 * lease-backend.contract.test.ts. Each test gets its own group of workers (a fresh bucket, a scratch database).
 * Time enters only as "within the backend's own leaseBoundMs, plus generous slack" for a busy 2-core machine.
 */
export interface LeaseGroup {
  /** A new worker of this group, not started. */
  worker(): LeaseBackend;
  /** The coordinator's tick for this group's workers: the suite heartbeats every live worker at this rate. */
  heartbeatMs: number;
  /**
   * The worker dies as far as the others can tell, without releasing anything, while its process goes on and learns
   * of it later (PostgreSQL: its lease session is terminated; NATS KV: it stops renewing, as a hung process does).
   */
  kill(worker: LeaseBackend): Promise<void>;
  /** Removes what the group left behind (bucket, database). */
  dispose(): Promise<void>;
}

/** Added to leaseBoundMs before a wait counts as failed: jest, PostgreSQL and NATS share two busy cores. */
const SLACK_MS = 10_000;

async function eventually(condition: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await condition()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Started {
  backend: LeaseBackend;
  lost: { names: readonly string[]; reason: string }[];
  /** Stops the suite's heartbeat for it (a dead or hung worker renews nothing). */
  pause(): void;
}

export function leaseBackendContract(name: string, group: () => Promise<LeaseGroup>): void {
  describe(`LeaseBackend contract: ${name}`, () => {
    let g: LeaseGroup;
    const running: { backend: LeaseBackend; timer: NodeJS.Timeout | undefined }[] = [];

    /** Starts a worker and heartbeats it, as the coordinator would, until paused or closed. */
    async function start(): Promise<Started> {
      const backend = g.worker();
      const lost: Started['lost'] = [];
      await backend.start((names, reason) => void lost.push({ names: [...names], reason }));
      const entry = { backend, timer: undefined as NodeJS.Timeout | undefined };
      entry.timer = setInterval(() => void backend.heartbeat().catch(() => undefined), g.heartbeatMs);
      running.push(entry);
      return { backend, lost, pause: () => clearInterval(entry.timer) };
    }

    beforeEach(async () => {
      g = await group();
    });
    afterEach(async () => {
      for (const r of running.splice(0)) {
        clearInterval(r.timer);
        await r.backend.close().catch(() => undefined);
      }
      await g.dispose();
    });

    it('excludes: a lease is held by one worker at a time, also when two race for it', async () => {
      const a = await start();
      const b = await start();
      const lease = 'projection:sensor_readings/3 of 8';
      expect(await a.backend.tryAcquire(lease)).toBe(true);
      expect(await b.backend.tryAcquire(lease)).toBe(false);
      // Asking again for a lease one holds is a yes, not a conflict with oneself.
      expect(await a.backend.tryAcquire(lease)).toBe(true);
      expect(await b.backend.tryAcquire('saga.inference#0')).toBe(true);
      expect(await a.backend.tryAcquire('saga.inference#0')).toBe(false);
      for (let i = 0; i < 5; i++) {
        const raced = await Promise.all([a.backend.tryAcquire(`raced-${i}`), b.backend.tryAcquire(`raced-${i}`)]);
        expect(raced.filter(Boolean)).toHaveLength(1);
      }
      expect([...a.backend.held(), ...b.backend.held()].filter((n) => !n.startsWith('raced-')).sort()).toEqual([lease, 'saga.inference#0'].sort());
      expect(new Set([...a.backend.held(), ...b.backend.held()]).size).toBe(a.backend.held().length + b.backend.held().length);
      expect(a.lost).toEqual([]);
      expect(b.lost).toEqual([]);
    });

    it('workers() counts the live workers of the group, this one included', async () => {
      const a = await start();
      expect(await a.backend.workers()).toBe(1);
      const b = await start();
      const c = await start();
      expect(await a.backend.workers()).toBe(3);
      expect(await c.backend.workers()).toBe(3);
      await b.backend.close();
      await eventually(async () => (await a.backend.workers()) === 2, 5_000, 'a closed worker no longer counted');
      expect(a.backend.workerId).not.toBe(c.backend.workerId);
    });

    it('release makes a lease free for another worker at once', async () => {
      const a = await start();
      const b = await start();
      expect(await a.backend.tryAcquire('p-1')).toBe(true);
      expect(await a.backend.tryAcquire('p-2')).toBe(true);
      await a.backend.release('p-1');
      expect(a.backend.held()).toEqual(['p-2']);
      expect(await b.backend.tryAcquire('p-1')).toBe(true);
      expect(await b.backend.tryAcquire('p-2')).toBe(false);
      // Releasing what one does not hold is a no-op, and frees nothing of another's.
      await a.backend.release('p-1');
      expect(await a.backend.tryAcquire('p-1')).toBe(false);
    });

    it('close releases every lease and leaves the group', async () => {
      const a = await start();
      const b = await start();
      for (const n of ['p-1', 'p-2', 'p-3']) expect(await a.backend.tryAcquire(n)).toBe(true);
      await a.backend.close();
      expect(a.backend.held()).toEqual([]);
      for (const n of ['p-1', 'p-2', 'p-3']) expect(await b.backend.tryAcquire(n)).toBe(true);
      expect(await b.backend.workers()).toBe(1);
      expect(a.lost).toEqual([]);
    });

    it(
      'a dead worker’s leases become free within leaseBoundMs; it hears of the loss through onLost and can take them again once free',
      async () => {
        const a = await start();
        const b = await start();
        const names = ['p-0', 'p-5'];
        for (const n of names) expect(await a.backend.tryAcquire(n)).toBe(true);
        a.pause();
        await g.kill(a.backend);
        const bound = a.backend.leaseBoundMs + SLACK_MS;
        const waited = await eventually(
          async () => (await b.backend.tryAcquire(names[0]!)) && (await b.backend.tryAcquire(names[1]!)),
          bound,
          `the dead worker's leases free for another (leaseBoundMs ${a.backend.leaseBoundMs})`,
        );
        expect(waited).toBeLessThanOrEqual(bound);
        expect(await b.backend.workers()).toBe(1);

        // The worker was only hung (or its session cut): its next heartbeat tells it what it lost.
        await a.backend.heartbeat().catch(() => undefined);
        await eventually(() => a.lost.flatMap((l) => l.names).length >= names.length, 5_000, 'onLost on the worker that lost them');
        expect(a.lost.flatMap((l) => l.names).sort()).toEqual(names);
        expect(a.lost.every((l) => l.reason.length > 0)).toBe(true);
        expect(a.backend.held()).toEqual([]);

        // Re-acquire after loss: refused while the other holds it, granted once it is released.
        expect(await a.backend.tryAcquire(names[0]!)).toBe(false);
        await b.backend.release(names[0]!);
        expect(await a.backend.tryAcquire(names[0]!)).toBe(true);
        expect(await b.backend.tryAcquire(names[0]!)).toBe(false);
        expect(b.lost).toEqual([]);
      },
      60_000,
    );

    it('a live worker keeps its leases across many heartbeats (renewal works, nothing is reported lost)', async () => {
      const a = await start();
      const b = await start();
      expect(await a.backend.tryAcquire('p-1')).toBe(true);
      // Longer than the bound: without renewal the lease would be free by now.
      await new Promise((r) => setTimeout(r, a.backend.leaseBoundMs + 2 * g.heartbeatMs));
      expect(await b.backend.tryAcquire('p-1')).toBe(false);
      expect(a.backend.held()).toEqual(['p-1']);
      expect(a.lost).toEqual([]);
    }, 60_000);
  });
}
