import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { exportEvents } from '../../src/cli/events-export.js';
import { chainLine, splitLine } from '../../src/cli/events-format.js';
import { verifyEventsFile } from '../../src/cli/events-verify.js';
import { buildProgram } from '../../src/cli/program.js';
import type { NewEvent } from '../../src/event-store/event-store.js';
import { PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.js';
import { EVENT_LOG_BACKENDS, createTestDatabase, type TestDatabase } from '../support/test-databases.js';

const ev = (i: number): NewEvent => ({
  eventId: randomUUID(),
  type: i % 2 ? 'ReadingsIngested' : 'AnomalyDetected',
  data: { i, text: `value ${i}` },
  metadata: { correlationId: randomUUID(), actor: 'key-1', schemaVersion: 1, occurredAt: new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString() },
});

describe.each(EVENT_LOG_BACKENDS)('events export / verify (%s)', (backend) => {
  let t: TestDatabase;
  let store: PostgresEventStore;
  let dir: string;
  let file: string;
  let lines: string[];

  beforeAll(async () => {
    t = await createTestDatabase(backend);
    store = new PostgresEventStore(t.database);
    dir = await mkdtemp(join(tmpdir(), 'events-cli-'));
    let i = 0;
    for (const stream of ['readings-a', 'readings-b', 'anomalies-a', 'readings-a', 'readings-b', 'readings-a']) {
      await store.append(stream, [ev(i++), ev(i++)]);
    }
    // Commits become readable once no older write transaction runs anywhere on the (shared) server.
    for (const deadline = Date.now() + 30_000; (await store.readAll()).length < 12 && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 25));
    }
    file = join(dir, 'all.ndjson');
    const out = createWriteStream(file);
    // A small page size makes the export page through the log.
    const summary = await exportEvents(store, out, { pageSize: 5 });
    out.end();
    await once(out, 'finish');
    expect(summary.manifest).toMatchObject({ count: 12, streams: 3, stream: null, adapter: backend });
    lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
  }, 180_000);
  afterAll(async () => {
    await t?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  const tampered = async (name: string, edit: (lines: string[]) => string[]) => {
    const path = join(dir, name);
    await writeFile(path, `${edit([...lines]).join('\n')}\n`);
    return verifyEventsFile(path);
  };

  it('exports every event with metadata, position and revision, in global order, and a manifest', async () => {
    expect(lines).toHaveLength(13);
    const records = lines.map((l) => JSON.parse(splitLine(l).content));
    const all = await store.readAll();
    expect(records.slice(0, 12).map((r) => r.eventId)).toEqual(all.map((e) => e.eventId));
    expect(records[0]).toMatchObject({
      kind: 'event',
      seq: 1,
      streamId: 'readings-a',
      revision: 0,
      position: all[0]!.position,
      type: 'AnomalyDetected',
      data: { i: 0, text: 'value 0' },
      metadata: all[0]!.metadata,
    });
    expect(records[12]).toMatchObject({ kind: 'manifest', count: 12, streams: 3, lastPosition: all[11]!.position });
  });

  it('verifies an intact export', async () => {
    const report = await verifyEventsFile(file);
    expect(report.problems).toEqual([]);
    expect(report).toMatchObject({ ok: true, events: 12, streams: 3 });
    expect(report.chain).toBe(splitLine(lines[12]!).chain);
  });

  it('fails on a changed value', async () => {
    const report = await tampered('changed.ndjson', (l) => {
      l[3] = l[3]!.replace('"value 3"', '"value 33"');
      return l;
    });
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([expect.stringMatching(/^line 4: checksum chain broken/)]);
  });

  it('fails on a changed value even when that line’s chain is recomputed', async () => {
    const report = await tampered('rechained.ndjson', (l) => {
      const record = JSON.parse(splitLine(l[3]!).content);
      record.data.i = 99;
      l[3] = chainLine(splitLine(l[2]!).chain!, record).line;
      return l;
    });
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([expect.stringMatching(/^line 5: checksum chain broken/)]);
  });

  it('fails on a missing event', async () => {
    const report = await tampered('dropped.ndjson', (l) => [...l.slice(0, 6), ...l.slice(7)]);
    expect(report.ok).toBe(false);
    expect(report.problems.join('\n')).toMatch(/checksum chain broken/);
    expect(report.problems.join('\n')).toMatch(/seq 8, expected 7/);
    expect(report.problems.join('\n')).toMatch(/readings-a revision 3, expected 2 \(revisions must be contiguous\)/);
    expect(report.problems.join('\n')).toMatch(/manifest: count 12, file has 11 events/);
  });

  it('says the bytes changed, not "no chain field", when an untouched export is re-serialised', async () => {
    // As a JSON tool would write it back: same values, the chain field first.
    const report = await tampered('reserialised.ndjson', (l) => l.map((line) => {
      const { chain, ...rest } = JSON.parse(line) as Record<string, unknown>;
      return JSON.stringify({ chain, ...rest });
    }));
    expect(report.ok).toBe(false);
    expect(report.problems.join('\n')).not.toMatch(/no chain field/);
    expect(report.problems[0]).toBe(
      'line 1: the line is not byte for byte as exported (re-serialised or edited: it has a chain field, but the chain covers the exact bytes the export wrote); verify the original file',
    );
  });

  it('fails on reordered events', async () => {
    const report = await tampered('swapped.ndjson', (l) => [l[0]!, l[2]!, l[1]!, ...l.slice(3)]);
    expect(report.ok).toBe(false);
    expect(report.problems.join('\n')).toMatch(/global order/);
  });

  it('fails on a truncated file (no manifest)', async () => {
    const report = await tampered('truncated.ndjson', (l) => l.slice(0, 12));
    expect(report.ok).toBe(false);
    expect(report.problems).toContain('no manifest line: the file is truncated or not an export');
  });

  it('exports one stream by revision', async () => {
    const path = join(dir, 'one.ndjson');
    const out = createWriteStream(path);
    const { manifest } = await exportEvents(store, out, { stream: 'readings-a', pageSize: 4 });
    out.end();
    await once(out, 'finish');
    expect(manifest).toMatchObject({ count: 6, streams: 1, stream: 'readings-a' });
    const report = await verifyEventsFile(path);
    expect(report).toMatchObject({ ok: true, events: 6, streams: 1 });
  });

  if (backend === 'postgres') {
    it('runs as CLI commands with the service configuration (DATABASE_URL)', async () => {
      const previous = process.env.DATABASE_URL;
      process.env.DATABASE_URL = t.url;
      const errors: string[] = [];
      const logs: string[] = [];
      const err = jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void errors.push(a.join(' ')));
      const log = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void logs.push(a.join(' ')));
      try {
        const out = join(dir, 'cli.ndjson');
        await buildProgram().parseAsync(['node', 'cli', 'events', 'export', '--out', out]);
        expect(errors.join('\n')).toMatch(/exported 12 events from 3 streams \(postgres\); sha256 chain [0-9a-f]{64}/);
        await buildProgram().parseAsync(['node', 'cli', 'events', 'verify', out]);
        expect(process.exitCode ?? 0).toBe(0);
        expect(logs.join('\n')).toMatch(/^ok: 12 events, 3 streams/);

        await writeFile(out, (await readFile(out, 'utf8')).replace('"value 7"', '"value 8"'));
        await buildProgram().parseAsync(['node', 'cli', 'events', 'verify', out]);
        expect(process.exitCode).toBe(1);
        expect(errors.join('\n')).toMatch(/FAILED: 1 problem\(s\)/);
      } finally {
        process.exitCode = 0;
        err.mockRestore();
        log.mockRestore();
        if (previous === undefined) delete process.env.DATABASE_URL;
        else process.env.DATABASE_URL = previous;
      }
    });
  }
});
