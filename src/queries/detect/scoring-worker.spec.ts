import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AnomalyDetector, WindowError } from '../../inference/anomaly-detector.js';
import { FAMILIES } from '../../inference/ensemble.js';
import { loadUci } from '../../inference/evaluation/uci-data.js';
import { SENSORS } from '../../inference/features/hydraulic-17.js';
import { ScoringWorker, ScoringWorkerUnavailableError } from './scoring-worker.js';
import { MODELS_DIR, typeScriptWorkerExecArgv } from '../../inference/test-support.js';
import { metrics } from '../../observability/metrics.js';

const script = new URL('./scoring.worker.ts', import.meta.url);
const execArgv = typeScriptWorkerExecArgv();
const data = loadUci('models/sample');
const start = Date.UTC(2024, 4, 1, 12, 0, 0);
const samples = (cycle: number) =>
  Array.from({ length: 60 }, (_, s) => ({
    ts: new Date(start + s * 1000).toISOString(),
    values: Object.fromEntries(SENSORS.map((sensor, j) => [sensor, data.windows[cycle]![j]![s]!])),
  }));

const modelRuns = async () => (await metrics.modelInferenceDuration.get()).values.filter((v) => v.metricName === 'model_inference_duration_seconds_count').reduce((n, v) => n + v.value, 0);

describe('ScoringWorker', () => {
  let detector: AnomalyDetector;
  let worker: ScoringWorker;

  beforeAll(async () => {
    detector = await AnomalyDetector.load({ modelsDir: MODELS_DIR });
    worker = await ScoringWorker.start({ modelsDir: MODELS_DIR, version: detector.version, flags: detector.flags, sensors: SENSORS, script, execArgv });
  });
  afterAll(async () => {
    await worker?.close();
    await detector?.close();
  });

  it('scores windows exactly as the detector does in-process', async () => {
    expect(worker.version).toBe(detector.version);
    for (let cycle = 0; cycle < data.windows.length; cycle += 5) {
      // in order, shuffled and with gaps (filled by interpolation)
      for (const window of [samples(cycle), [...samples(cycle)].reverse(), samples(cycle).filter((_, s) => s % 13 !== 4)]) {
        const [inWorker, inProcess] = await Promise.all([worker.scoreWindow(window), detector.scoreWindow(window)]);
        expect(inWorker).toEqual(inProcess.result);
      }
    }
  });

  it('scores a window request from its JSON as the detector does, and hands any other body back (null)', async () => {
    const json = (body: unknown) => new TextEncoder().encode(JSON.stringify(body));
    for (const window of [samples(4), [...samples(9)].reverse()]) {
      const [inWorker, inProcess] = await Promise.all([worker.scoreJson(json({ equipment_id: 'rig-1', samples: window })), detector.scoreWindow(window)]);
      expect(inWorker).toEqual(inProcess.result);
    }
    const bad = samples(4);
    bad[3] = { ...bad[3]!, values: { ...bad[3]!.values, PS1: 1e9 } };
    for (const body of [{ samples: bad }, { values: samples(4)[0]!.values }, { samples: samples(4), extra: 1 }]) expect(await worker.scoreJson(json(body))).toBeNull();
    expect(await worker.scoreJson(new TextEncoder().encode('{"samples": ['))).toBeNull();
    await expect(worker.scoreJson(json({ samples: samples(4).slice(0, 30) }))).rejects.toBeInstanceOf(WindowError);
  });

  it('scores windows that wait together in one model run, each as the detector scores it alone', async () => {
    const batches = async () => (await metrics.detectBatchWindows.get()).values.find((v) => v.metricName === 'detect_worker_batch_windows_sum')?.value ?? 0;
    const runsBefore = await modelRuns();
    const windowsBefore = await batches();
    const json = (body: unknown) => new TextEncoder().encode(JSON.stringify(body));
    // sent at once: they queue at the worker while it scores the first
    const windows = Array.from({ length: 16 }, (_, k) => (k % 3 === 0 ? [...samples(k)].reverse() : samples(k)));
    const answers = await Promise.allSettled([
      ...windows.map((w, k) => (k % 2 ? worker.scoreWindow(w)! : worker.scoreJson(json({ samples: w })))),
      worker.scoreWindow(samples(2).slice(0, 40))!,
      worker.scoreJson(json({ values: samples(1)[0]!.values })),
    ]);
    // 16 windows scored, in fewer model runs than windows (counted before the in-process runs below add theirs)
    expect((await batches()) - windowsBefore).toBe(16);
    const runsPerWindow = detector.models.window.bundled ? 1 : FAMILIES.filter((f) => detector.models.window.has(f)).length;
    expect((await modelRuns()) - runsBefore).toBeLessThan(16 * runsPerWindow);
    for (const [k, w] of windows.entries()) expect(answers[k]).toEqual({ status: 'fulfilled', value: (await detector.scoreWindow(w)).result });
    expect(answers[16]).toEqual({ status: 'rejected', reason: expect.any(WindowError) });
    expect(answers[17]).toEqual({ status: 'fulfilled', value: null });
  });

  it('fails a bad window with the WindowError the detector gives', async () => {
    for (const window of [samples(2).slice(0, 40), [...samples(2), { ...samples(2)[0]!, ts: '2024-05-01T12:05:00.000Z' }]]) {
      const inProcess = await detector.scoreWindow(window).catch((e: unknown) => e);
      expect(inProcess).toBeInstanceOf(WindowError);
      await expect(worker.scoreWindow(window)).rejects.toEqual(inProcess);
      await expect(worker.scoreWindow(window)).rejects.toBeInstanceOf(WindowError);
    }
  });

  it('leaves samples holding anything but finite numbers to the caller', () => {
    const window = samples(3);
    window[7] = { ...window[7]!, values: { ...window[7]!.values, PS2: Number.NaN } };
    expect(worker.scoreWindow(window)).toBeNull();
    delete (window[7]!.values as Record<string, number>).PS2;
    expect(worker.scoreWindow(window)).toBeNull();
  });

  it('counts each model run in this process\'s metrics', async () => {
    const before = await modelRuns();
    await worker.scoreWindow(samples(1));
    // one run for the window bundle, else one per model
    expect((await modelRuns()) - before).toBe(detector.models.window.bundled ? 1 : FAMILIES.filter((f) => detector.models.window.has(f)).length);
  });

  it('refuses to start with a version it cannot load', async () => {
    await expect(ScoringWorker.start({ modelsDir: MODELS_DIR, version: 'no-such-version', flags: detector.flags, sensors: SENSORS, script, execArgv })).rejects.toThrow(/could not load the models/);
  });

  it('rejects as unavailable once closed (callers then score in-process)', async () => {
    const other = await ScoringWorker.start({ modelsDir: MODELS_DIR, version: detector.version, flags: detector.flags, sensors: SENSORS, script, execArgv });
    await other.close();
    expect(other.usable).toBe(false);
    await expect(other.scoreWindow(samples(0))).rejects.toBeInstanceOf(ScoringWorkerUnavailableError);
  });
});
