import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createPostgresDatabase } from '../support/test-databases.js';

/**
 * Found by the soak (issue #17): a PostgreSQL restart killed the service. node-postgres' pool removes its
 * error listener from a connection while it is checked out; a server that ends such a connection between
 * two statements (a projection's transaction) emitted an unhandled 'error' event, and the process exited.
 * Run in a child process of the built code, as the service runs it: an unhandled 'error' ends it.
 */
const script = `
import { createDatabase } from './dist/src/database/create-database.js';
import { sql } from 'kysely';
const url = process.argv[1];
const database = await createDatabase({ url, poolSize: 2 });
const admin = await createDatabase({ url, poolSize: 1 });
try {
  await database.db.transaction().execute(async (trx) => {
    const { rows } = await sql\`select pg_backend_pid() as pid\`.execute(trx);
    // The server ends this connection while the transaction waits between two statements.
    await sql\`select pg_terminate_backend(\${rows[0].pid})\`.execute(admin.db);
    await new Promise((r) => setTimeout(r, 500));
    await sql\`select 1\`.execute(trx);
  });
  console.log('transaction: committed?!');
} catch (error) {
  console.log('transaction failed:', error.message);
}
// The pool goes on with a new connection.
const { rows } = await sql\`select 41 + 1 as answer\`.execute(database.db);
console.log('answer', rows[0].answer);
await database.close();
await admin.close();
`;

beforeAll(async () => {
  await promisify(execFile)('npm', ['run', 'build', '--silent']);
}, 120_000);

describe('a connection the server ends while it is checked out (postgres)', () => {
  let db: { url: string; drop: () => Promise<void> };
  beforeAll(async () => {
    db = await createPostgresDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('fails that transaction only; the process lives and the pool serves the next query', async () => {
    const run = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, db.url], { cwd: process.cwd() }).catch((e: { code: number; stdout: string; stderr: string }) => e);
    expect({ code: (run as { code?: number }).code ?? 0, stderr: run.stderr.replace(/^.*ExperimentalWarning.*\n?/gm, '') }).toEqual({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(/transaction failed: .*(terminat|connection error)/);
    expect(run.stdout).toContain('answer 42');
  }, 60_000);
});
