import { describe, expect, it } from '@jest/globals';
import { readModelsMessage } from './read-models-message.js';

describe('readModelsMessage', () => {
  it('names TimescaleDB and its version when the extension is there', () => {
    expect(readModelsMessage('postgres', { timescaledb: true, version: '2.28.3' })).toMatch(/^read models on TimescaleDB 2\.28\.3:/);
  });

  it('says why a PostgreSQL server stays on plain SQL', () => {
    expect(readModelsMessage('postgres', { timescaledb: false, reason: 'not-preloaded' })).toMatch(
      /^read models on plain PostgreSQL: .*not in shared_preload_libraries/,
    );
    expect(readModelsMessage('postgres', { timescaledb: false, reason: 'not-available' })).toMatch(/no timescaledb extension on the server/);
  });

  it('gives PGlite no reason (it never has TimescaleDB)', () => {
    expect(readModelsMessage('pglite', { timescaledb: false, reason: 'not-available' })).toBe(
      'read models on plain PGlite: projection-maintained rollups, date_bin',
    );
  });
});
