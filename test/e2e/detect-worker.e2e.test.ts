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

  beforeAll(async () => {
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
});
