import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AnomalyDetector, WindowError, type Sample } from '../../src/inference/anomaly-detector.js';
import { loadUci } from '../../src/inference/evaluation/uci-data.js';
import { SENSORS } from '../../src/inference/features/hydraulic-17.js';
import { usableCpus } from '../../src/queries/detect/detect-scoring.js';
import { toResponse } from '../../src/queries/detect/detect.handler.js';
import { spawnService, type SpawnedService } from '../support/spawn-service.js';
import { createTestStorage, inject, startTestApp, type TestStorage } from '../support/test-app.js';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

/**
 * The built service scores detect windows on a worker thread where it may use two CPUs (the e2e tests that run
 * from sources score in-process). Here the running service must answer exactly what the in-process detector
 * answers for the same windows, good and bad.
 */
const data = loadUci('models/sample');
const START = Date.UTC(2024, 4, 1, 12, 0, 0);

function window(cycle: number): Sample[] {
  return Array.from({ length: 60 }, (_, s) => ({
    ts: new Date(START + s * 1000).toISOString(),
    values: Object.fromEntries(SENSORS.map((sensor, j) => [sensor, data.windows[cycle]![j]![s]!])),
  }));
}

const cases: [string, Sample[]][] = [
  ...[0, 7, 19, 33, 47].map((c): [string, Sample[]] => [`cycle ${c}`, window(c)]),
  ['samples out of order', [...window(5)].reverse()],
  ['three seconds missing (filled)', window(11).filter((_, s) => s !== 3 && s !== 30 && s !== 59)],
];

const twoCpus = usableCpus() >= 2;
const title = twoCpus ? 'detect on the built service (scoring worker)' : 'detect on the built service (scoring worker): skipped — the process may use fewer than two CPUs, so the service scores in-process';
(twoCpus ? describe : describe.skip)(title, () => {
  let service: SpawnedService;
  let port: number;
  let detector: AnomalyDetector;
  let dataDir: string;
  let storage: TestStorage;
  let inProcessApp: NestFastifyApplication;

  beforeAll(async () => {
    // the same service from sources: no compiled worker script, so detect parses and scores on the main thread
    storage = await createTestStorage('pglite');
    inProcessApp = await startTestApp(storage.env);
    await promisify(execFile)('npm', ['run', 'build', '--silent']);
    dataDir = mkdtempSync(join(tmpdir(), 'detect-worker-'));
    service = spawnService({ DATA_DIR: dataDir });
    port = await service.port();
    // Until the worker has loaded its models the service scores in-process: wait for it.
    await service.waitForLog((l) => l.msg === 'detect scores windows on a worker thread');
    detector = await AnomalyDetector.load({ modelsDir: 'models' });
  }, 120_000);
  afterAll(async () => {
    if (service && service.child.exitCode === null) {
      service.child.kill('SIGTERM');
      await service.exited;
    }
    await detector?.close();
    await inProcessApp?.close();
    await storage?.dispose();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  const detect = async (samples: Sample[]) => {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/detect`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ equipment_id: 'rig-1', samples }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };

  it.each(cases)('answers as the in-process detector: %s', async (_name, samples) => {
    const { status, body } = await detect(samples);
    expect(status).toBe(200);
    const local = toResponse((await detector.scoreWindow(samples)).result);
    expect(body).toEqual(JSON.parse(JSON.stringify(local)));
  });

  it('answers many concurrent windows (batched at the worker) as the in-process detector', async () => {
    const windows = Array.from({ length: 24 }, (_, k) => window(k));
    const answers = await Promise.all(windows.map((w) => detect(w)));
    for (const [k, w] of windows.entries()) {
      expect(answers[k]!.status).toBe(200);
      expect(answers[k]!.body).toEqual(JSON.parse(JSON.stringify(toResponse((await detector.scoreWindow(w)).result))));
    }
  });

  it('rejects a window with too few seconds with the in-process message', async () => {
    const samples = window(2).slice(0, 40);
    const local = await detector.scoreWindow(samples).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(local).toBeInstanceOf(WindowError);
    const { status, body } = await detect(samples);
    expect(status).toBe(400);
    expect(body.errors).toEqual([{ field: 'samples', message: (local as Error).message }]);
  });

  // The worker parses and checks a window's JSON itself and hands anything it does not accept as it is back to
  // the main thread's parser and checks: every body must get the answer the in-process service gives.
  const good = () => ({ equipment_id: 'rig-1', samples: window(3) });
  const edit = (f: (b: any) => void) => {
    const b = JSON.parse(JSON.stringify(good()));
    f(b);
    return JSON.stringify(b);
  };
  const bodies: [string, string][] = [
    ['a valid window', JSON.stringify(good())],
    ['a valid window, pretty-printed, keys in another order', JSON.stringify({ samples: good().samples.map((s) => ({ values: Object.fromEntries(Object.entries(s.values).reverse()), ts: s.ts })), equipment_id: 'rig-1' }, null, 2)],
    ['a valid window after a byte order mark', '\uFEFF' + JSON.stringify(good())],
    ['a valid window whose samples key is written with an escape', JSON.stringify(good()).replace('"samples"', '"\\u0073amples"')],
    ['one sample', JSON.stringify({ equipment_id: 'rig-1', values: window(3)[30]!.values })],
    ['malformed JSON', '{"samples": ['],
    ['an empty body', ''],
    ['a __proto__ key', JSON.stringify(good()).replace('{', '{"__proto__": {"polluted": true},')],
    ['a constructor.prototype key among the values', edit((b) => (b.samples[4].values.constructor = { prototype: { polluted: true } }))],
    ['a sensor missing', edit((b) => delete b.samples[7].values.PS2)],
    ['an unknown sensor', edit((b) => (b.samples[7].values.PS9 = 1))],
    ['a value out of range', edit((b) => (b.samples[8].values.TS1 = 1e6))],
    ['a value that is a string', edit((b) => (b.samples[8].values.TS1 = '40'))],
    ['a bad timestamp', edit((b) => (b.samples[9].ts = '2024-05-01 12:00:09'))],
    ['an unknown body field', edit((b) => (b.extra = 1))],
    ['both values and samples', edit((b) => (b.values = b.samples[0].values))],
    ['a bad equipment id', edit((b) => (b.equipment_id = 'rig 1'))],
  ];

  it.each(bodies)('answers %s exactly as the service that parses on its main thread', async (_name, payload) => {
    const request = { method: 'POST' as const, url: '/api/v1/detect', headers: { 'content-type': 'application/json' }, payload };
    const res = await fetch(`http://127.0.0.1:${port}${request.url}`, { method: 'POST', headers: request.headers, body: payload });
    const reference = await inject(inProcessApp, request);
    const strip = (b: Record<string, unknown>) => ({ ...b, correlation_id: undefined });
    expect(res.status).toBe(reference.statusCode);
    expect(strip((await res.json()) as Record<string, unknown>)).toEqual(strip(reference.json()));
  });
});
