import { describe, expect, it } from '@jest/globals';
import { BatchFormatError, parseBatch, type SensorRanges } from './parse-batch.js';

const ranges: SensorRanges = new Map([['PS1', { min: -1, max: 221, unit: 'bar' }]]);
const row = (sensor_id: string, v: unknown) => ({ system_id: 'rig-1', equipment_id: 'press-7', sensor_id, ts: '2024-05-01T10:00:00Z', v });

describe('parseBatch: physical ranges of known sensors', () => {
  it('given a known sensor, when its value is outside the range, then the row is quarantined naming the range', async () => {
    const batch = await parseBatch('json', [row('PS1', 1e300), row('PS1', -5), row('PS1', 151.2)], 100, ranges);
    expect(batch.valid.map((r) => r.row)).toEqual([3]);
    // The stored prefix's size and hash (rawBytes, rawSha256) are covered by bounded-json.spec.ts.
    expect(batch.rejected).toMatchObject([
      { row: 1, raw: row('PS1', 1e300), systemId: 'rig-1', errors: [{ field: 'v', message: 'must be between -1 and 221 bar for sensor PS1' }], rawTruncated: false },
      { row: 2, raw: row('PS1', -5), systemId: 'rig-1', errors: [{ field: 'v', message: 'must be between -1 and 221 bar for sensor PS1' }], rawTruncated: false },
    ]);
  });

  it('given a value on the bounds, when parsed, then it is accepted', async () => {
    expect((await parseBatch('json', [row('PS1', -1), row('PS1', 221)], 100, ranges)).valid).toHaveLength(2);
  });

  it('given an unknown sensor, when its value is huge, then today’s rule holds: any finite number is accepted', async () => {
    expect((await parseBatch('json', [row('XYZ', 1e300)], 100, ranges)).valid).toHaveLength(1);
  });

  it('given CSV, when a known sensor is out of range, then the row is quarantined the same way', async () => {
    const csv = 'system_id,equipment_id,sensor_id,ts,v\nrig-1,press-7,PS1,2024-05-01T10:00:00Z,1e300\n';
    expect((await parseBatch('csv', csv, 100, ranges)).rejected[0]!.errors).toEqual([{ field: 'v', message: 'must be between -1 and 221 bar for sensor PS1' }]);
  });
});

describe('parseBatch: CSV header', () => {
  it('given a header naming no known column, when parsed, then the message names the header once', async () => {
    const error = await parseBatch('csv', 'foo,bar\n1,2\n', 100, ranges).then(
      () => undefined,
      (e: unknown) => e as BatchFormatError,
    );
    expect(error).toBeInstanceOf(BatchFormatError);
    expect(error!.field).toBe('header');
    expect(error!.message).toBe('names none of the columns system_id, equipment_id, sensor_id, ts, v, unit, meta');
  });
});
