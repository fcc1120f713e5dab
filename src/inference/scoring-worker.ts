/**
 * Scores assembled windows on a worker thread (scoring.worker.ts) with its own copy of the ensemble.
 *
 * Why: a detect request spends about as much CPU in window assembly, features and model runs as in HTTP,
 * JSON and Nest together; on a machine with a second core, moving the scoring there lets the main thread
 * take about 1.5 times the requests (bench:detect). Results are the same: same model files and version,
 * same code (the worker assembles the window from the packed values it is sent, by the rules of
 * assembleWindow, and scores it like scoreWindow), single-threaded ONNX
 * Runtime; a WindowError comes back as a WindowError with the same message.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { metrics } from '../observability/metrics.js';
import type { DetectionResult, DetectorFlags, Sample } from './anomaly-detector.js';
import type { ModelRunLabel } from './registry.js';
import { WindowError } from './features/window.js';
import type { ScoringWorkerData } from './scoring.worker.js';

export interface ScoringRequest {
  id: number;
  /** the samples' timestamps, in the order sent */
  ts: string[];
  /** sample-major: sample i's value of sensor j at [i * sensors + j] */
  values: Float64Array;
}

export type ScoringReply =
  | { id: number; result: DetectionResult; runs: [ModelRunLabel, number][] }
  | { id: number; error: { name: string; message: string } };

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
  private readonly pending = new Map<number, { resolve: (r: DetectionResult) => void; reject: (e: Error) => void }>();
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
    const S = this.sensors.length;
    const values = new Float64Array(samples.length * S);
    const ts: string[] = [];
    for (let i = 0; i < samples.length; i++) {
      const row = samples[i]!.values;
      // keys in sensor order (the usual case) are read while enumerating, else looked up one by one
      let j = 0;
      for (const key in row) {
        if (j === S || key !== this.sensors[j]) break;
        const v = row[key];
        if (typeof v !== 'number' || !Number.isFinite(v)) return null;
        values[i * S + j++] = v;
      }
      if (j < S)
        for (j = 0; j < S; j++) {
          const v = row[this.sensors[j]!];
          if (typeof v !== 'number' || !Number.isFinite(v)) return null;
          values[i * S + j] = v;
        }
      ts.push(samples[i]!.ts);
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const request: ScoringRequest = { id, ts, values };
      this.worker.postMessage(request, [values.buffer]);
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
    for (const [model, seconds] of reply.runs) metrics.modelInferenceDuration.observe({ model }, seconds);
    waiting.resolve(reply.result);
  }

  private fail(error: Error): void {
    this.failure ??= error instanceof ScoringWorkerUnavailableError ? error : new ScoringWorkerUnavailableError(error.message);
    for (const { reject } of this.pending.values()) reject(this.failure);
    this.pending.clear();
  }
}
