/**
 * Worker-thread entry of ScoringWorker (scoring-worker.ts): holds its own AnomalyDetector (same models
 * directory, version and flags as the service's) and scores windows one at a time, so JSON parsing, the
 * checks, window assembly, feature extraction and the model runs use a second core while the main thread
 * serves HTTP.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { AnomalyDetector, type DetectorFlags } from '../../inference/anomaly-detector.js';
import type { ModelRunLabel } from '../../inference/registry.js';
import { packWindowRequest } from './detect-request.js';
import { CLOSE, type ScoringReply, type ScoringRequest } from './scoring-worker.js';

export interface ScoringWorkerData {
  modelsDir: string;
  version: string;
  flags: DetectorFlags;
  sensors: readonly string[];
}

const port = parentPort!;
const { modelsDir, version, flags, sensors } = workerData as ScoringWorkerData;

try {
  const detector = await AnomalyDetector.load({ modelsDir, version, flags });
  // Values arrive packed in the order the main thread was given; scoreWindowPacked reads the profile's order.
  const order = detector.sensors.map((s) => s.id);
  if (sensors.length !== order.length || sensors.some((s, j) => s !== order[j]))
    throw new Error(`values would arrive in the order ${sensors.join(', ')}, the models take ${order.join(', ')}`);
  // Model timings go back with each result: this thread's metrics registry is not the one /metrics serves.
  let runs: [ModelRunLabel, number][] = [];
  detector.observeModelRun = (model, seconds) => runs.push([model, seconds]);
  const decoder = new TextDecoder();
  const score = async (request: ScoringRequest): Promise<ScoringReply> => {
    const { id } = request;
    try {
      const packed = 'json' in request ? packWindowRequest(decoder.decode(request.json), detector.sensors) : request;
      if (!packed) return { id, notFastPath: true };
      runs = [];
      const { result } = await detector.scoreWindowPacked(packed.ts, packed.values);
      return { id, result, runs };
    } catch (error) {
      return { id, error: { name: (error as Error).name, message: (error as Error).message } };
    }
  };
  // One request at a time (the model runs are synchronous anyway), so each reply carries its own timings.
  let queue = Promise.resolve();
  port.on('message', (request: ScoringRequest | typeof CLOSE) => {
    if (request === CLOSE) {
      queue = queue.then(async () => {
        await detector.close();
        port.close(); // nothing else keeps this thread alive: it exits
      });
      return;
    }
    queue = queue.then(async () => port.postMessage(await score(request)));
  });
  port.postMessage({ ready: detector.version });
} catch (error) {
  port.postMessage({ failed: (error as Error).message });
}
