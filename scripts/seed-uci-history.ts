/**
 * npm run seed:history -- --data DIR [--system rig-uci] [--equipment rig-1] [--start 2026-03-01T00:00:00Z]
 *
 * Appends a folder in the UCI layout (60 values per row, e.g. models/sample or the training set) to the
 * configured event store (DATA_DIR / DATABASE_URL / EVENTSTORE_URL, as the service) as one equipment's
 * ReadingsIngested history, cycle i at start + i * 60 s — the history that `models reproject` and
 * `models compare --labels DIR/profile.txt --labels-start START` then score (docs/models.md §5.0).
 */
import { Command } from 'commander';
import { withRuntime } from '../src/cli/cli-runtime.js';
import { streams } from '../src/events/streams.js';
import { cycleEvents, readCycles } from './bench/replay-uci.js';

const o = new Command()
  .name('seed-uci-history')
  .requiredOption('--data <dir>', 'folder in the UCI layout, 60 values per row')
  .option('--system <id>', 'system id', 'rig-uci')
  .option('--equipment <id>', 'equipment id', 'rig-1')
  .option('--start <iso>', 'start of the first cycle', '2026-03-01T00:00:00Z')
  .parse(process.argv)
  .opts<{ data: string; system: string; equipment: string; start: string }>();

try {
  const start = Date.parse(o.start);
  if (Number.isNaN(start)) throw new Error(`--start: '${o.start}' is not an ISO date`);
  const cycles = readCycles(o.data);
  if (cycles.some((c) => c.length !== 60)) throw new Error(`${o.data}: every row must hold 60 one-second values`);
  const events = cycleEvents(cycles, { systemId: o.system, equipmentId: o.equipment, start });
  await withRuntime(async ({ store }) => {
    // bounded appends (one per 20 events); the saga of a running service scores them as they land
    for (let i = 0; i < events.length; i += 20) await store.append(streams.readings(o.system), events.slice(i, i + 20), 'any');
  });
  console.log(`${cycles.length} cycles (${events.length} ReadingsIngested) appended to ${streams.readings(o.system)}, first cycle at ${new Date(start).toISOString()}`);
} catch (e) {
  console.error(`seed-uci-history: ${(e as Error).message}`);
  process.exitCode = 1;
}
