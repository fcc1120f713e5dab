/**
 * Worker-thread entry of ScoringWorker (scoring-worker.ts): holds its own AnomalyDetector (same models
 * directory, version and flags as the service's) and scores the windows waiting for it in one batch, so
 * JSON parsing, the checks, window assembly, feature extraction and the model runs use a second core while
 * the main thread serves HTTP, and under load one model run serves several requests.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { AnomalyDetector, WindowError, type DetectionResult, type DetectorFlags } from '../../inference/anomaly-detector.js';
import type { ModelRunLabel } from '../../inference/registry.js';
import { packWindowJson, type PackedWindow } from './detect-request.js';
import { CLOSE, type ScoringReply, type ScoringRequest } from './scoring-worker.js';

export interface ScoringWorkerData {
  modelsDir: string;
  version: string;
  flags: DetectorFlags;
  sensors: readonly string[];
}

/** At most this many queued requests share one model run (a longer queue is served in several). */
const MAX_BATCH = 16;

const failure = (error: unknown) => ({ name: (error as Error).name, message: (error as Error).message });

const port = parentPort!;
const { modelsDir, version, flags, sensors } = workerData as ScoringWorkerData;

try {
  const detector = await AnomalyDetector.load({ modelsDir, version, flags });
  // Values arrive packed in the order the main thread was given; scorePackedWindows reads the profile's order.
  const order = detector.sensors.map((s) => s.id);
  if (sensors.length !== order.length || sensors.some((s, j) => s !== order[j]))
    throw new Error(`values would arrive in the order ${sensors.join(', ')}, the models take ${order.join(', ')}`);
  // Model timings go back with the results (this thread's metrics registry is not the one /metrics serves).
  let runs: [ModelRunLabel, number][] = [];
  detector.observeModelRun = (model, seconds) => runs.push([model, seconds]);
  const decoder = new TextDecoder();

  /** Scores the windows of one batch of requests in one model run and answers each request. */
  const scoreBatch = async (batch: ScoringRequest[]): Promise<void> => {
    const ids: number[] = [];
    const windows: PackedWindow[] = [];
    for (const request of batch) {
      try {
        const packed = 'json' in request ? packWindowJson(decoder.decode(request.json), detector.sensors) : request;
        // not for the fast path: answered now, not after the others' model run
        if (!packed) port.postMessage({ id: request.id, notFastPath: true } satisfies ScoringReply);
        else {
          ids.push(request.id);
          windows.push(packed);
        }
      } catch (error) {
        port.postMessage({ id: request.id, error: failure(error) } satisfies ScoringReply);
      }
    }
    if (!windows.length) return;
    runs = [];
    let results: (DetectionResult | WindowError)[];
    try {
      results = await detector.scorePackedWindows(windows);
    } catch (error) {
      for (const id of ids) port.postMessage({ id, error: failure(error) } satisfies ScoringReply);
      return;
    }
    // the batch's model runs and size are counted once, with its first result
    let counted = false;
    const batched = results.filter((r) => !(r instanceof WindowError)).length;
    results.forEach((r, k) => {
      if (r instanceof WindowError) return port.postMessage({ id: ids[k]!, error: failure(r) } satisfies ScoringReply);
      port.postMessage({ id: ids[k]!, result: r, runs: counted ? [] : runs, batch: counted ? 0 : batched } satisfies ScoringReply);
      counted = true;
    });
  };

  // Requests that arrive while a batch is scored wait in the queue and form the next batch: under load a
  // model run serves several windows, alone a window is scored at once.
  const queue: ScoringRequest[] = [];
  let draining = false;
  let closing = false;
  const close = async () => {
    await detector.close();
    port.close(); // nothing else keeps this thread alive: it exits
  };
  const drain = async () => {
    while (queue.length && !closing) await scoreBatch(queue.splice(0, MAX_BATCH));
    draining = false;
    if (closing) await close();
  };
  port.on('message', (request: ScoringRequest | typeof CLOSE) => {
    if (request === CLOSE) {
      // the caller has already given up on queued requests; finish the batch in hand, then exit
      closing = true;
      queue.length = 0;
      if (!draining) void close();
      return;
    }
    if (closing) return;
    queue.push(request);
    if (draining) return;
    draining = true;
    // after the other messages already delivered, so that they join this batch
    setImmediate(() => void drain());
  });
  port.postMessage({ ready: detector.version });
} catch (error) {
  port.postMessage({ failed: (error as Error).message });
}
