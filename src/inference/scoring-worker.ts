/**
 * Scores assembled windows on a worker thread (scoring.worker.ts) with its own copy of the ensemble.
 *
 * Why: a detect request spends about as much CPU in features and model runs as in HTTP, JSON and Nest
 * together; on a machine with a second core, moving the scoring there lets the main thread take about
 * 1.5 times the requests (bench:detect). Results are the same numbers: same model files and version,
 * same code, single-threaded ONNX Runtime; only the window assembly (and its errors) stays on the caller.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { metrics } from '../observability/metrics.js';
import type { DetectionResult, DetectorFlags } from './anomaly-detector.js';
import type { Family } from './ensemble.js';
import type { ScoringWorkerData } from './scoring.worker.js';

export interface ScoringRequest {
  id: number;
  /** sensor-major: sensor j's seconds at [j * T, (j + 1) * T) */
  columns: Float64Array;
}

export type ScoringReply =
  | { id: number; result: DetectionResult; runs: [Family, number][] }
  | { id: number; error: { name: string; message: string } };

type StartupMessage = { ready: string } | { failed: string };

/** The worker is gone (crashed or closed): score in-process instead. */
export class ScoringWorkerUnavailableError extends Error {}

export interface ScoringWorkerOptions {
  modelsDir: string;
  version: string;
  flags: DetectorFlags;
  /** Tests: the worker script and Node options to run it with (default: the compiled sibling scoring.worker.js). */
  script?: URL;
  execArgv?: string[];
}

const DEFAULT_SCRIPT = new URL('./scoring.worker.js', import.meta.url);

export class ScoringWorker {
  private readonly pending = new Map<number, { resolve: (r: DetectionResult) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private failure: Error | undefined;

  private constructor(
    private readonly worker: Worker,
    readonly version: string,
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
    const data: ScoringWorkerData = { modelsDir: opts.modelsDir, version: opts.version, flags: opts.flags };
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
        resolve(new ScoringWorker(worker, m.ready));
      });
      worker.once('error', failed);
    });
  }

  get usable(): boolean {
    return this.failure === undefined;
  }

  /** Scores one window given as sensor columns (each dutyCycleSeconds long). */
  scoreColumns(cols: readonly Float64Array[]): Promise<DetectionResult> {
    if (this.failure) return Promise.reject(new ScoringWorkerUnavailableError(this.failure.message));
    const T = cols[0]?.length ?? 0;
    const columns = new Float64Array(cols.length * T);
    for (let j = 0; j < cols.length; j++) columns.set(cols[j]!, j * T);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const request: ScoringRequest = { id, columns };
      this.worker.postMessage(request, [columns.buffer]);
    });
  }

  async close(): Promise<void> {
    this.fail(new ScoringWorkerUnavailableError('scoring worker closed'));
    await this.worker.terminate();
  }

  private settle(reply: ScoringReply): void {
    const waiting = this.pending.get(reply.id);
    if (!waiting) return;
    this.pending.delete(reply.id);
    if ('error' in reply) {
      const error = new Error(reply.error.message);
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
