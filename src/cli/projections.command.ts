import { Command, InvalidArgumentError } from 'commander';
import { sql } from 'kysely';
import { migrateToLatest } from '../database/migrate.js';
import type { Position } from '../event-store/event-store.js';
import type { Projection } from '../projections/projection.js';
import { allProjections } from '../projections/projections.module.js';
import { projectionStatus, rebuildProjection, verifyProjection } from '../read-side/operations/projection-operations.js';
import { loadDetector } from '../inference/inference-saga.module.js';
import { repartition } from '../projections/partitions/repartition.js';
import { withRuntime, type CliRuntime } from './cli-runtime.js';
import { progressBar } from './progress.js';

const positiveInt = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
};

const fmt = (p: Position | undefined) => (p ? `${p.commit}/${p.prepare}` : '-');

function pick(name: string): Projection[] {
  const all = allProjections();
  if (name === 'all') return all;
  const found = all.find((p) => p.name === name);
  if (!found) throw new InvalidArgumentError(`unknown projection "${name}" (known: ${all.map((p) => p.name).join(', ')}, all)`);
  return [found];
}

async function eventCount(runtime: CliRuntime): Promise<number> {
  if (runtime.store.adapter === 'eventstoredb') return 0;
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from events`.execute(runtime.database.db);
  return rows[0]!.n;
}

/** `projections status | rebuild NAME | verify NAME`: operate the read models (docs/read-models.md). */
export function projectionsCommand(): Command {
  const cmd = new Command('projections').description('read-model operations: status, blue/green rebuild, verify against a replay');

  cmd
    .command('status')
    .description('checkpoint and lag (events not yet processed) of every projection and checkpointed subscriber')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      await withRuntime(async (runtime) => {
        const status = await projectionStatus(runtime, allProjections());
        if (opts.json) return void console.log(JSON.stringify(status, null, 2));
        console.table(status.map((s) => ({ projection: s.name, checkpoint: fmt(s.checkpoint), lag_events: s.lagEvents, updated_at: s.updatedAt ?? '-', kind: s.known ? 'projection' : 'subscriber' })));
      });
    });

  cmd
    .command('rebuild')
    .description('replay from position 0 into a shadow schema while the service serves, then swap atomically and move the checkpoint')
    .argument('<name>', 'projection name, or "all"')
    .option('--batch-size <n>', 'events per transaction', positiveInt, 1000)
    .option('--progress', 'show a progress bar even when stderr is not a terminal')
    .action(async (name: string, opts: { batchSize: number; progress?: boolean }) => {
      const projections = pick(name);
      await withRuntime(async (runtime) => {
        await migrateToLatest(runtime.database);
        const total = await eventCount(runtime);
        for (const projection of projections) {
          const bar = progressBar(total, `rebuild ${projection.name}`, opts.progress);
          const r = await rebuildProjection(
            { ...runtime, batchSize: opts.batchSize, onProgress: (p) => bar.update(p.events, { detail: `${p.events} events` }) },
            projection,
          );
          bar.stop();
          console.log(
            `rebuilt ${r.projection}: ${r.events} events in ${r.seconds.toFixed(1)} s (${Math.round(r.events / Math.max(r.seconds, 1e-3))} events/s), ` +
              `checkpoint ${fmt(r.checkpoint)}, swap ${Object.entries(r.swap).map(([t, s]) => `${t}:${s}`).join(' ')}`,
          );
        }
      });
    });

  cmd
    .command('verify')
    .description('rebuild into a scratch schema and compare with the live read model (counts, checksums); exit 1 on any difference')
    .argument('<name>', 'projection name, or "all"')
    .option('--batch-size <n>', 'events per transaction', positiveInt, 1000)
    .option('--json', 'print JSON')
    .option('--progress', 'show a progress bar even when stderr is not a terminal')
    .action(async (name: string, opts: { batchSize: number; json?: boolean; progress?: boolean }) => {
      const projections = pick(name);
      await withRuntime(async (runtime) => {
        const total = await eventCount(runtime);
        const results = [];
        for (const projection of projections) {
          const bar = progressBar(total, `verify ${projection.name}`, opts.progress);
          results.push(
            await verifyProjection(
              { ...runtime, batchSize: opts.batchSize, onProgress: (p) => bar.update(p.events, { detail: `${p.events} events` }) },
              projection,
            ),
          );
          bar.stop();
        }
        if (opts.json) console.log(JSON.stringify(results, null, 2));
        else {
          for (const r of results) {
            console.log(`${r.equal ? 'OK  ' : 'DIFF'} ${r.projection} at ${fmt(r.checkpoint)} (${r.events} events replayed; excluded columns: ${r.excludedColumns.join(', ')})`);
            console.table(
              r.tables.map((t) => ({
                table: t.table,
                live_rows: t.live.rows,
                rebuilt_rows: t.rebuilt.rows,
                live_checksum: t.live.checksum.slice(0, 12),
                rebuilt_checksum: t.rebuilt.checksum.slice(0, 12),
                only_live: t.onlyInLive,
                only_rebuilt: t.onlyInRebuilt,
                equal: t.equal,
              })),
            );
          }
        }
        if (results.some((r) => !r.equal)) {
          console.error('verify FAILED: the live read model differs from a replay of the log');
          process.exitCode = 1;
        }
      });
    });

  cmd
    .command('repartition')
    .description('change P, the partitions of the saga and heavy projections: takes every lease (stop the workers first), brings all partitions to one position, then moves the checkpoints')
    .requiredOption('--partitions <n>', 'the new partition count', positiveInt)
    .option('--timeout-seconds <n>', 'how long to wait for the leases and for the partitions to reach the common position', positiveInt, 600)
    .action(async (opts: { partitions: number; timeoutSeconds: number }) => {
      await withRuntime(async (runtime) => {
        await migrateToLatest(runtime.database);
        const detector = await loadDetector(runtime.config).catch((error: unknown) => {
          console.error(`no model loads (${error instanceof Error ? error.message : String(error)}): the saga's partitions are not moved`);
          return null;
        });
        try {
          const r = await repartition({
            config: runtime.config,
            database: runtime.database,
            store: runtime.store,
            projections: allProjections(),
            scorer: detector?.scorer ?? null,
            to: opts.partitions,
            timeoutMs: opts.timeoutSeconds * 1000,
            log: (message) => console.error(message),
          });
          if (r.from === r.to) return void console.log(`already ${r.to} partitions: nothing to do`);
          console.log(`repartitioned ${r.from} -> ${r.to} at ${fmt(r.position)} in ${r.seconds.toFixed(1)} s: ${r.moved.length} checkpoints (${r.moved.join(', ')})`);
        } finally {
          await detector?.close();
        }
      });
    });

  return cmd;
}
