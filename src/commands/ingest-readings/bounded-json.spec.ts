import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { countEventLoopTurns } from '../../../test/support/event-loop-turns.js';
import { boundedJson, boundedText, jsonLengthExceeds } from './bounded-json.js';

const sha = (t: string) => createHash('sha256').update(t).digest('hex');

describe('bounded JSON of a rejected row', () => {
  it('given a small row, when bounded, then the prefix is its whole JSON with its size and hash', async () => {
    const row = { system_id: 'r', v: 'x', meta: { a: [1, null, 'é', { b: true }] }, n: 1e21, u: undefined };
    const text = JSON.stringify(row);
    expect(await boundedJson(row, 4096)).toEqual({ prefix: text, bytes: Buffer.byteLength(text), sha256: sha(text), truncated: false });
  });

  it('given a huge row, when bounded, then only the prefix is kept and size and hash are of the whole text', async () => {
    const row = { meta: { blob: 'é'.repeat(100_000) } };
    const text = JSON.stringify(row);
    const b = await boundedJson(row, 1000);
    expect(b.truncated).toBe(true);
    expect(Buffer.byteLength(b.prefix)).toBeLessThanOrEqual(1000);
    expect(text.startsWith(b.prefix)).toBe(true);
    expect(b).toMatchObject({ bytes: Buffer.byteLength(text), sha256: sha(text) });
  });

  it('given a value nested 100,000 deep, when bounded, then no stack overflows', async () => {
    let v: unknown = 1;
    for (let i = 0; i < 100_000; i++) v = { a: v };
    const b = await boundedJson(v, 100);
    expect(b.bytes).toBe(100_000 * 6 + 1);
    expect(b.prefix).toBe('{"a":'.repeat(20));
    expect(jsonLengthExceeds(v, 4096)).toBe(true);
  });

  it('given a CSV line, when bounded, then the text itself is kept up to the bound', async () => {
    expect(await boundedText('a,b,c', 3)).toMatchObject({ prefix: 'a,b', bytes: 5, truncated: true, sha256: sha('a,b,c') });
    expect(jsonLengthExceeds({ a: 'x'.repeat(10) }, 4096)).toBe(false);
  });

  it('given a string of several slices, when bounded, then the slices add up to JSON.stringify exactly, surrogate pairs and escapes across the cuts', async () => {
    // 😀 is a surrogate pair: at odd offsets it straddles every 2^20-character cut; quotes, controls and lone surrogates are escaped
    const blob = `${'a'.repeat((1 << 20) - 1)}😀"\u0001\ud800${'😀'.repeat(1 << 20)}\n\udfffz`;
    for (const value of [{ meta: { blob } }, blob]) {
      const text = JSON.stringify(value);
      expect(await boundedJson(value, 64)).toEqual({ prefix: text.slice(0, 64), bytes: Buffer.byteLength(text), sha256: sha(text), truncated: true });
    }
    expect(await boundedText(blob, 10)).toMatchObject({ bytes: Buffer.byteLength(blob), sha256: sha(blob) });
  });

  it('given a 32 MiB string, when bounded, then the event loop gets turns meanwhile (issue #20: /health/live waits otherwise)', async () => {
    const loop = countEventLoopTurns();
    const b = await boundedJson({ meta: { blob: 'm'.repeat(32 << 20) } }, 4096);
    const turns = loop.stop();
    expect(b.bytes).toBe((32 << 20) + '{"meta":{"blob":""}}'.length);
    expect(turns).toBeGreaterThanOrEqual(16);
  });
});
