import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { Command, InvalidArgumentError } from 'commander';
import { exportEvents } from './events-export.js';
import { verifyEventsFile } from './events-verify.js';
import { withRuntime } from './cli-runtime.js';

const positiveInt = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
};

/** `events export` and `events verify`: the auditors' tools (format: src/cli/events-format.ts). */
export function eventsCommand(): Command {
  const events = new Command('events').description('export and verify the event log (audit)');

  events
    .command('export')
    .description('write stored events as NDJSON (one event per line, then a manifest line) with a sha256 chain')
    .option('--stream <stream>', 'only this stream')
    .option('--out <file>', 'write to a file instead of stdout')
    .option('--page-size <n>', 'events per read', positiveInt, 1000)
    .option('--progress', 'show a progress bar even when stderr is not a terminal')
    .action(async (opts: { stream?: string; out?: string; pageSize: number; progress?: boolean }) => {
      await withRuntime(async ({ store }) => {
        const out = opts.out ? createWriteStream(opts.out) : process.stdout;
        const { manifest, chain } = await exportEvents(store, out, { stream: opts.stream, pageSize: opts.pageSize, progress: opts.progress });
        if (opts.out) {
          out.end();
          await once(out, 'finish');
        }
        console.error(`exported ${manifest.count} events from ${manifest.streams} streams (${manifest.adapter}); sha256 chain ${chain}`);
      });
    });

  events
    .command('verify')
    .description('check an export: count, contiguous revisions per stream, global order, sha256 chain; exit 1 on any problem')
    .argument('<file>', 'an NDJSON export')
    .option('--progress', 'show a progress bar even when stderr is not a terminal')
    .action(async (file: string, opts: { progress?: boolean }) => {
      const report = await verifyEventsFile(file, { progress: opts.progress });
      if (report.ok) {
        console.log(`ok: ${report.events} events, ${report.streams} streams; sha256 chain ${report.chain}`);
        return;
      }
      for (const p of report.problems) console.error(p);
      console.error(`FAILED: ${report.problems.length} problem(s) in ${file}`);
      process.exitCode = 1;
    });

  return events;
}
