import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { boundedJson, boundedText, jsonLengthExceeds } from './bounded-json.js';

const sha = (t: string) => createHash('sha256').update(t).digest('hex');

describe('bounded JSON of a rejected row', () => {
  it('given a small row, when bounded, then the prefix is its whole JSON with its size and hash', () => {
    const row = { system_id: 'r', v: 'x', meta: { a: [1, null, 'é', { b: true }] }, n: 1e21, u: undefined };
    const text = JSON.stringify(row);
    expect(boundedJson(row, 4096)).toEqual({ prefix: text, bytes: Buffer.byteLength(text), sha256: sha(text), truncated: false });
  });

  it('given a huge row, when bounded, then only the prefix is kept and size and hash are of the whole text', () => {
    const row = { meta: { blob: 'é'.repeat(100_000) } };
    const text = JSON.stringify(row);
    const b = boundedJson(row, 1000);
    expect(b.truncated).toBe(true);
    expect(Buffer.byteLength(b.prefix)).toBeLessThanOrEqual(1000);
    expect(text.startsWith(b.prefix)).toBe(true);
    expect(b).toMatchObject({ bytes: Buffer.byteLength(text), sha256: sha(text) });
  });

  it('given a value nested 100,000 deep, when bounded, then no stack overflows', () => {
    let v: unknown = 1;
    for (let i = 0; i < 100_000; i++) v = { a: v };
    const b = boundedJson(v, 100);
    expect(b.bytes).toBe(100_000 * 6 + 1);
    expect(b.prefix).toBe('{"a":'.repeat(20));
    expect(jsonLengthExceeds(v, 4096)).toBe(true);
  });

  it('given a CSV line, when bounded, then the text itself is kept up to the bound', () => {
    expect(boundedText('a,b,c', 3)).toMatchObject({ prefix: 'a,b', bytes: 5, truncated: true, sha256: sha('a,b,c') });
    expect(jsonLengthExceeds({ a: 'x'.repeat(10) }, 4096)).toBe(false);
  });
});
