/**
 * The compose stack runs the TimescaleDB and PostgreSQL versions the tests run (scripts/timescaledb/build.sh builds
 * them for the test matrix): an exact image tag, never a moving one such as `latest-pg16`, in docker-compose.yml and
 * in .env.example, and the docs name the same versions.
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

/** The version the test cluster is built from: `VERSION=` and the PostgreSQL major in build.sh. */
function testedVersions(): { timescaledb: string; postgres: string } {
  const script = read('scripts/timescaledb/build.sh');
  const timescaledb = /^VERSION=(\S+)$/m.exec(script)?.[1];
  const postgres = /^PG_MAJOR=\$\{TIMESCALEDB_PG_MAJOR:-(\d+)\}/m.exec(script)?.[1];
  if (!timescaledb || !postgres) throw new Error('build.sh names no VERSION / PG_MAJOR');
  return { timescaledb, postgres };
}

describe('the TimescaleDB image of the compose stack', () => {
  const { timescaledb, postgres } = testedVersions();
  const image = `timescale/timescaledb:${timescaledb}-pg${postgres}`;

  it(`docker-compose.yml defaults to ${image}`, () => {
    const line = /^\s*image:\s*\$\{TIMESCALEDB_IMAGE:-([^}]+)\}\s*$/m.exec(read('docker-compose.yml'));
    expect(line?.[1]).toBe(image);
  });

  it(`.env.example sets ${image}`, () => {
    expect(/^TIMESCALEDB_IMAGE=(.*)$/m.exec(read('.env.example'))?.[1]).toBe(image);
  });

  it('the docs name the same versions and no other TimescaleDB image', () => {
    for (const doc of ['docs/timescaledb.md', 'docs/production.md']) {
      const text = read(doc);
      expect(text).toContain(image);
      expect(text.match(/timescale\/timescaledb:[\w.-]+/g)?.filter((m) => m !== image) ?? []).toEqual([]);
    }
  });
});
