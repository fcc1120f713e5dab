/**
 * Detect's scoring worker: scores windows on a worker thread (scoring.worker.ts) with its own copy of the ensemble.
 *
 * Why: a detect window request spends more CPU in JSON parsing, checks, window assembly, features and model
 * runs than in HTTP and Nest; on a machine with a second core the main thread hands them over and takes more
 * requests (bench:detect). Two ways in: a request's JSON text (`scoreJson`: the worker parses, checks and
 * packs it exactly as detect-request.ts says, or answers "not for the fast path"), or samples already
 * parsed (`scoreWindow`: packed here). Results are the same as in-process: same model files and version,
 * same code (the window is assembled from the packed values by the rules of assembleWindow and scored like
 * scoreWindow), single-threaded ONNX Runtime; a WindowError comes back as a WindowError with the same message.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { metrics } from '../../observability/metrics.js';
import type { DetectionResult, DetectorFlags, Sample } from '../../inference/anomaly-detector.js';
import { WindowError } from '../../inference/features/window.js';
import type { ModelRunLabel } from '../../inference/registry.js';
import { packSamples } from './detect-request.js';
import type { ScoringWorkerData } from './scoring.worker.js';

export type ScoringRequest =
  | {
      id: number;
      /** the samples' timestamps, in the order sent */
      ts: string[];
      /** sample-major: sample i's value of sensor j at [i * sensors + j] */
      values: Float64Array;
    }
  | {
      id: number;
      /** a detect request body as received (UTF-8 JSON) */
      json: Uint8Array;
    };

export type ScoringReply =
  /** `runs` and `batch` (windows in the model run) come with the first result of a batch, else empty / 0 */
  | { id: number; result: DetectionResult; runs: [ModelRunLabel, number][]; batch: number }
  | { id: number; error: { name: string; message: string } }
  /** the JSON body is not a window detect accepts as it is: the caller takes the full path */
  | { id: number; notFastPath: true };

type StartupMessage = { ready: string } | { failed: string };

/** Asks the worker to release its sessions and exit (a thread terminated inside a native call can abort the process). */
export const CLOSE = 'close';

/** The worker is gone (crashed or closed): score in-process instead. */
export class ScoringWorkerUnavailableError extends Error {}

export interface ScoringWorkerOptions {
  modelsDir: string;
  version: string;
  flags: DetectorFlags;
  /** The profile's sensor ids, in the order values are sent. */
  sensors: readonly string[];
  /** Tests: the worker script and Node options to run it with (default: the compiled sibling scoring.worker.js). */
  script?: URL;
  execArgv?: string[];
}

const DEFAULT_SCRIPT = new URL('./scoring.worker.js', import.meta.url);

export class ScoringWorker {
  private readonly pending = new Map<number, { resolve: (r: DetectionResult | null) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private failure: Error | undefined;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly worker: Worker,
    readonly version: string,
    private readonly sensors: readonly string[],
  ) {
    worker.on('message', (reply: ScoringReply) => this.settle(reply));
    worker.on('error', (error) => this.fail(error));
    worker.on('exit', (code) => this.fail(new ScoringWorkerUnavailableError(`scoring worker exited (code ${code})`)));
  }

  /** False when the compiled worker script is missing (running from TypeScript sources, e.g. under jest). */
  static available(script: URL = DEFAULT_SCRIPT): boolean {
    return existsSync(fileURLToPath(script));
  }

  /** Starts the worker and waits until its models are loaded; rejects with the reason they could not be. */
  static start(opts: ScoringWorkerOptions): Promise<ScoringWorker> {
    const data: ScoringWorkerData = { modelsDir: opts.modelsDir, version: opts.version, flags: opts.flags, sensors: opts.sensors };
    const worker = new Worker(opts.script ?? DEFAULT_SCRIPT, { workerData: data, execArgv: opts.execArgv });
    // Never keeps the process alive: shutdown closes it, and an exiting process takes it along.
    worker.unref();
    return new Promise((resolve, reject) => {
      const failed = (error: Error) => {
        void worker.terminate();
        reject(error);
      };
      worker.once('message', (m: StartupMessage) => {
        worker.off('error', failed);
        if ('failed' in m) return failed(new Error(`scoring worker could not load the models: ${m.failed}`));
        if (m.ready !== opts.version) return failed(new Error(`scoring worker loaded ${m.ready}, not ${opts.version}`));
        resolve(new ScoringWorker(worker, m.ready, opts.sensors));
      });
      worker.once('error', failed);
    });
  }

  get usable(): boolean {
    return this.failure === undefined;
  }

  /**
   * Scores one window like AnomalyDetector.scoreWindow, or returns null (score in-process) when a sample
   * lacks a sensor or holds something other than a finite number: only numbers travel to the worker.
   */
  scoreWindow(samples: readonly Sample[]): Promise<DetectionResult> | null {
    if (this.failure) return Promise.reject(new ScoringWorkerUnavailableError(this.failure.message));
    const packed = packSamples(samples, this.sensors);
    return packed && (this.send({ id: this.nextId++, ts: packed.ts, values: packed.values }, [packed.values.buffer as ArrayBuffer]) as Promise<DetectionResult>);
  }

  /**
   * Scores a detect request from its JSON text when it is a window detect accepts as it is (packWindowRequest);
   * resolves null for any other body, which the caller then parses and checks itself.
   */
  scoreJson(json: Uint8Array): Promise<DetectionResult | null> {
    if (this.failure) return Promise.reject(new ScoringWorkerUnavailableError(this.failure.message));
    // copied, not transferred: the bytes may share their memory with other buffers
    return this.send({ id: this.nextId++, json });
  }

  private send(request: ScoringRequest, transfer: ArrayBuffer[] = []): Promise<DetectionResult | null> {
    return new Promise((resolve, reject) => {
      this.pending.set(request.id, { resolve, reject });
      this.worker.postMessage(request, transfer);
    });
  }

  /** Lets the worker finish the window in hand and release its ONNX sessions, then ends it (forcibly after 5 s). */
  async close(): Promise<void> {
    if (this.closing) return this.closing;
    this.fail(new ScoringWorkerUnavailableError('scoring worker closed'));
    this.closing = new Promise<void>((resolve) => {
      const force = setTimeout(() => void this.worker.terminate(), 5_000);
      force.unref();
      this.worker.once('exit', () => {
        clearTimeout(force);
        resolve();
      });
      this.worker.postMessage(CLOSE);
    });
    return this.closing;
  }

  private settle(reply: ScoringReply): void {
    const waiting = this.pending.get(reply.id);
    if (!waiting) return;
    this.pending.delete(reply.id);
    if ('error' in reply) {
      const error = reply.error.name === 'WindowError' ? new WindowError(reply.error.message) : new Error(reply.error.message);
      error.name = reply.error.name;
      return waiting.reject(error);
    }
    if ('notFastPath' in reply) return waiting.resolve(null);
    for (const [model, seconds] of reply.runs) metrics.modelInferenceDuration.observe({ model }, seconds);
    if (reply.batch) metrics.detectBatchWindows.observe(reply.batch);
    waiting.resolve(reply.result);
  }

  private fail(error: Error): void {
    this.failure ??= error instanceof ScoringWorkerUnavailableError ? error : new ScoringWorkerUnavailableError(error.message);
    for (const { reject } of this.pending.values()) reject(this.failure);
    this.pending.clear();
  }
}
