import { afterAll, describe, expect, it } from '@jest/globals';
import Fastify from 'fastify';
import { checkSensorValues, type SensorRange } from './detect-input.js';
import { packSamples, packWindowRequest } from './detect-request.js';
import { detectBody } from './detect.schema.js';

const sensors: SensorRange[] = [
  { id: 'A', unit: 'bar', min: 0, max: 10 },
  { id: 'B', unit: 'W', min: -1, max: 1 },
];
const ts = (s: number) => new Date(Date.UTC(2024, 4, 1, 12, 0, s)).toISOString();
const window = () => ({ equipment_id: 'rig-1', samples: [0, 1, 2].map((s) => ({ ts: ts(s), values: { A: s, B: s / 10 } })) });
const edit = (f: (b: any) => void) => {
  const b = JSON.parse(JSON.stringify(window()));
  f(b);
  return JSON.stringify(b);
};

/** What the full path accepts as a window: Fastify's JSON parser, zod's schema, then the sensor check. */
const fastify = Fastify();
afterAll(() => fastify.close());
const fastifyParse = fastify.getDefaultJsonParser('error', 'error');
const fullPathAcceptsWindow = (json: string) => {
  let parsed: unknown;
  let failed = false;
  fastifyParse({} as never, json, (error, value) => ((failed = error !== null), (parsed = value)));
  if (failed) return false;
  const body = detectBody.safeParse(parsed);
  return body.success && body.data.samples !== undefined && checkSensorValues(body.data, sensors).length === 0;
};

describe('packWindowRequest', () => {
  it('given a window detect accepts, then packs its timestamps and values in sensor order', () => {
    const body = window();
    body.samples[1]!.values = { B: 0.1, A: 1 } as never; // another key order
    expect(packWindowRequest(JSON.stringify(body), sensors)).toEqual({ ts: [ts(0), ts(1), ts(2)], values: Float64Array.from([0, 0, 1, 0.1, 2, 0.2]) });
  });

  const bodies: [string, string, boolean][] = [
    ['a valid window', JSON.stringify(window()), true],
    ['one sample', JSON.stringify({ values: { A: 1, B: 0 } }), false],
    ['not JSON', '{"samples": [', false],
    ['a byte order mark first (left to Fastify\'s parser)', '\uFEFF' + JSON.stringify(window()), false],
    ['a __proto__ body key', JSON.stringify(window()).replace('{', '{"__proto__": {"x": 1},'), false],
    ['a __proto__ key among the values', edit((b) => (b.samples[0].values = JSON.parse('{"__proto__": 1, "A": 1, "B": 0}'))), false],
    ['a constructor key among the values', edit((b) => (b.samples[0].values.constructor = { prototype: {} })), false],
    ['a sensor missing', edit((b) => delete b.samples[2].values.B), false],
    ['an unknown sensor', edit((b) => (b.samples[2].values.C = 1)), false],
    ['out of range', edit((b) => (b.samples[2].values.A = 11)), false],
    ['a string value', edit((b) => (b.samples[2].values.A = '1')), false],
    ['a null value', edit((b) => (b.samples[2].values.A = null)), false],
    ['a bad timestamp', edit((b) => (b.samples[2].ts = 'noon')), false],
    ['an extra sample key', edit((b) => (b.samples[2].extra = 1)), false],
    ['an extra body key', edit((b) => (b.extra = 1)), false],
    ['no samples', edit((b) => (b.samples = [])), false],
  ];

  it.each(bodies)('given %s, then it packs only what the full path accepts as a window', (_name, json, packs) => {
    const packed = packWindowRequest(json, sensors);
    expect(packed !== null).toBe(packs);
    // never packs what the full path would refuse (a body with a BOM is accepted there, and parsed there)
    if (packed) expect(fullPathAcceptsWindow(json)).toBe(true);
    if (!packs && !json.startsWith('\uFEFF')) expect(fullPathAcceptsWindow(json)).toBe(false);
  });
});

describe('packSamples', () => {
  it('packs finite numbers in sensor order and refuses anything else', () => {
    expect(packSamples([{ ts: ts(0), values: { B: 1, A: 2 } }], ['A', 'B'])?.values).toEqual(Float64Array.from([2, 1]));
    expect(packSamples([{ ts: ts(0), values: { A: 2 } }], ['A', 'B'])).toBeNull();
    expect(packSamples([{ ts: ts(0), values: { A: 2, B: Number.POSITIVE_INFINITY } }], ['A', 'B'])).toBeNull();
  });
});
