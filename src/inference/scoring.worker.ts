/**
 * Worker-thread entry of ScoringWorker (scoring-worker.ts): holds its own AnomalyDetector (same models
 * directory, version and flags as the service's) and scores assembled windows one at a time, so the
 * feature extraction and the model runs use a second core while the main thread serves HTTP.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { AnomalyDetector, type DetectorFlags } from './anomaly-detector.js';
import type { Family } from './ensemble.js';
import type { ScoringReply, ScoringRequest } from './scoring-worker.js';

export interface ScoringWorkerData {
  modelsDir: string;
  version: string;
  flags: DetectorFlags;
}

const port = parentPort!;
const { modelsDir, version, flags } = workerData as ScoringWorkerData;

try {
  const detector = await AnomalyDetector.load({ modelsDir, version, flags });
  const S = detector.sensors.length;
  const T = detector.dutyCycleSeconds;
  // Model timings go back with each result: this thread's metrics registry is not the one /metrics serves.
  let runs: [Family, number][] = [];
  detector.observeModelRun = (model, seconds) => runs.push([model, seconds]);
  const score = async ({ id, columns }: ScoringRequest): Promise<ScoringReply> => {
    try {
      const cols = Array.from({ length: S }, (_, j) => columns.subarray(j * T, (j + 1) * T));
      runs = [];
      const { results } = await detector.scoreColumns([cols]);
      return { id, result: results[0], runs };
    } catch (error) {
      return { id, error: { name: (error as Error).name, message: (error as Error).message } };
    }
  };
  // One request at a time (the model runs are synchronous anyway), so each reply carries its own timings.
  let queue = Promise.resolve();
  port.on('message', (request: ScoringRequest) => {
    queue = queue.then(async () => port.postMessage(await score(request)));
  });
  port.postMessage({ ready: detector.version });
} catch (error) {
  port.postMessage({ failed: (error as Error).message });
}
