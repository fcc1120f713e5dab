import { describe, expect, it } from '@jest/globals';
import { decodeReadingsCursor, encodeReadingsCursor } from './readings-cursor.js';

describe('readings cursor', () => {
  it('given a cursor this service issued, when decoded, then the same position (microseconds kept)', () => {
    const c = { ts: '2024-01-01T00:00:01.123456Z', sensorId: 'PS1', equipmentId: 'press-7' };
    expect(decodeReadingsCursor(encodeReadingsCursor(c))).toEqual(c);
  });

  it('given text it did not issue, when decoded, then undefined', () => {
    for (const text of ['', 'nope', Buffer.from('{"t":"2024-01-01","s":"a","e":"b"}').toString('base64url'), Buffer.from('{"t":"2024-13-45T00:00:00.000000Z","s":"a","e":"b"}').toString('base64url'), Buffer.from('{"t":"2024-01-01T00:00:00.000000Z","s":"a","e":"b","x":1}').toString('base64url')]) {
      expect(decodeReadingsCursor(text)).toBeUndefined();
    }
  });
});
