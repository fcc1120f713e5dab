import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { sql } from 'kysely';
import { modelsCommand } from '../../src/cli/models.command.js';
import { projectionsCommand } from '../../src/cli/projections.command.js';
import { PostgresEventStore } from '../../src/event-store/postgres/postgres-event-store.js';
import { MODEL_VERSION_PROMOTED } from '../../src/events/model-version-promoted.event.js';
import { streams } from '../../src/events/streams.js';
import { registeredVersions } from '../../src/read-side/reprojection/model-registry.js';
import { createTestDatabase, type TestDatabase } from '../support/test-databases.js';
import { mixedWorkload, waitVisible } from './workload.js';

/** The CLI as an operator runs it (PostgreSQL: PGlite allows one process per data directory). */
describe('projections and models CLI on postgres', () => {
  let t: TestDatabase;
  let store: PostgresEventStore;
  const env = { ...process.env };
  let out: string[];

  beforeAll(async () => {
    t = await createTestDatabase('postgres');
    store = new PostgresEventStore(t.database);
    const { last } = await mixedWorkload(store, 11, 3);
    await waitVisible(store, last);
    process.env.DATABASE_URL = t.url;
    process.env.LOG_LEVEL = 'silent';
  });
  afterAll(async () => {
    process.env = env;
    process.exitCode = undefined;
    await t?.dispose();
  });

  async function run(cmd: ReturnType<typeof projectionsCommand>, args: string[]): Promise<{ exitCode: number; out: string }> {
    out = [];
    process.exitCode = undefined;
    const log = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
    const table = jest.spyOn(console, 'table').mockImplementation((rows: unknown) => void out.push(JSON.stringify(rows)));
    const err = jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
    try {
      await cmd.exitOverride().parseAsync(['node', 'cli', ...args]);
      return { exitCode: Number(process.exitCode ?? 0), out: out.join('\n') };
    } finally {
      log.mockRestore();
      table.mockRestore();
      err.mockRestore();
      process.exitCode = undefined;
    }
  }

  it('rebuild brings an empty read model up to the log, verify then exits 0, and exits 1 after tampering', async () => {
    const rebuilt = await run(projectionsCommand(), ['rebuild', 'system_equipment']);
    expect(rebuilt.out).toMatch(/rebuilt system_equipment: \d+ events/);
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from system_equipment`.execute(t.database.db);
    expect(rows[0]!.n).toBe(6);
    expect((await run(projectionsCommand(), ['verify', 'system_equipment'])).exitCode).toBe(0);
    await sql`delete from system_equipment where system_id = 'rig-c'`.execute(t.database.db);
    const failed = await run(projectionsCommand(), ['verify', 'system_equipment']);
    expect(failed.exitCode).toBe(1);
    expect(failed.out).toContain('verify FAILED');
  });

  it('status reports the lag of a projection that has not run', async () => {
    const status = await run(projectionsCommand(), ['status', '--json']);
    const rows = JSON.parse(status.out) as { name: string; lagEvents: number }[];
    const head = await sql<{ n: number }>`select count(*)::int as n from events`.execute(t.database.db);
    expect(rows.find((r) => r.name === 'sensor_readings')!.lagEvents).toBe(head.rows[0]!.n);
    expect(rows.find((r) => r.name === 'system_equipment')!.lagEvents).toBe(0);
  });

  it('promote appends ModelVersionPromoted for a registered version once, and rejects an unknown one', async () => {
    const { versions } = await registeredVersions('models');
    const v = versions[0]!;
    const versionsOf = async () =>
      (await store.readStream(streams.models)).filter((e) => e.type === MODEL_VERSION_PROMOTED).map((e) => e.data as { modelVersion: string });
    const before = await versionsOf();
    expect(before.length).toBeGreaterThan(0); // the workload promoted test versions already
    await run(modelsCommand(), ['promote', v, '--reason', 'test']);
    await run(modelsCommand(), ['promote', v]);
    const after = await versionsOf();
    expect(after.map((d) => d.modelVersion)).toEqual([...before.map((d) => d.modelVersion), v]);
    expect(after[after.length - 1]).toMatchObject({ previousVersion: before[before.length - 1]!.modelVersion, reason: 'test' });
    await expect(run(modelsCommand(), ['promote', 'no-such-version'])).rejects.toThrow(/not in the registry/);
  });

  it('compare fails, like reproject, when a version does not exist (no table, no exit 0)', async () => {
    const { versions } = await registeredVersions('models');
    await expect(run(modelsCommand(), ['compare', '--base', versions[0]!, '--candidate', 'no-such-version'])).rejects.toThrow(
      /model version no-such-version is not in the registry and has no recorded windows/,
    );
    expect(out.join('\n')).not.toMatch(/compare base/);
  });
});
