import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AnomalyDetector } from './anomaly-detector.js';
import { FAMILIES } from './ensemble.js';
import { loadUci } from './evaluation/uci-data.js';
import { SENSORS } from './features/hydraulic-17.js';
import { ScoringWorker, ScoringWorkerUnavailableError } from './scoring-worker.js';
import { MODELS_DIR, typeScriptWorkerExecArgv } from './test-support.js';
import { metrics } from '../observability/metrics.js';

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
    worker = await ScoringWorker.start({ modelsDir: MODELS_DIR, version: detector.version, flags: detector.flags, script, execArgv });
  });
  afterAll(async () => {
    await worker?.close();
    await detector?.close();
  });

  it('scores windows exactly as the detector does in-process', async () => {
    expect(worker.version).toBe(detector.version);
    for (let cycle = 0; cycle < data.windows.length; cycle += 5) {
      const cols = detector.assemble(samples(cycle));
      const [inWorker, inProcess] = await Promise.all([worker.scoreColumns(cols), detector.scoreColumns([cols])]);
      expect(inWorker).toEqual(inProcess.results[0]);
    }
  });

  it('counts each model run in this process\'s metrics', async () => {
    const before = await modelRuns();
    await worker.scoreColumns(detector.assemble(samples(1)));
    expect((await modelRuns()) - before).toBe(FAMILIES.filter((f) => detector.models.window.has(f)).length);
  });

  it('refuses to start with a version it cannot load', async () => {
    await expect(ScoringWorker.start({ modelsDir: MODELS_DIR, version: 'no-such-version', flags: detector.flags, script, execArgv })).rejects.toThrow(/could not load the models/);
  });

  it('rejects as unavailable once closed (callers then score in-process)', async () => {
    const other = await ScoringWorker.start({ modelsDir: MODELS_DIR, version: detector.version, flags: detector.flags, script, execArgv });
    await other.close();
    expect(other.usable).toBe(false);
    await expect(other.scoreColumns(detector.assemble(samples(0)))).rejects.toBeInstanceOf(ScoringWorkerUnavailableError);
  });
});
