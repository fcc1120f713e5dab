import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { AppConfig } from '../../config/config.schema.js';
import type { AnomalyDetector, DetectionResult, Sample } from '../../inference/anomaly-detector.js';
import type { DetectorHolder } from '../../inference/inference-saga.module.js';
import { ScoringWorker, ScoringWorkerUnavailableError } from './scoring-worker.js';
import { ANOMALY_DETECTOR } from '../../inference/window-scorer.js';
import { CONFIG } from '../../infrastructure/tokens.js';

/**
 * CPUs this process may use: the cores it sees, capped by a cgroup CPU quota (a container with
 * `cpus: 1.0` sees every core of the host but gets one core's time, and a worker thread there only adds
 * the cost of the messages).
 */
export function usableCpus(): number {
  const cores = availableParallelism();
  const read = (file: string) => {
    try {
      return readFileSync(file, 'utf8').trim();
    } catch {
      return undefined;
    }
  };
  // cgroup v2: "<quota> <period>" or "max <period>"; v1: quota -1 when unlimited
  const v2 = read('/sys/fs/cgroup/cpu.max')?.split(/\s+/);
  const [quota, period] = v2 ? v2.map(Number) : [Number(read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us')), Number(read('/sys/fs/cgroup/cpu/cpu.cfs_period_us'))];
  return quota! > 0 && period! > 0 ? Math.min(cores, quota! / period!) : cores;
}

/**
 * Every window body has this key as written; a body without it (one sample, most bad bodies) is no window,
 * and sending it to the worker would only queue it behind the windows there and parse it twice. A window
 * whose key is written with escapes just takes the full path, with the same answer.
 */
const SAMPLES_KEY = Buffer.from('"samples"');

/**
 * Where detect scores a window: on a scoring worker thread when the process may use two CPUs (same
 * results, see scoring-worker.ts), else, and until the worker is ready or if it fails, in-process. With a
 * worker, a request's JSON text goes there to be read and checked too (scoreJson), and windows that wait
 * there together share one model run (every body goes there: reading some on the main thread while the worker
 * was busy did worse once it batches, 2026-11-29). A bad window fails the same either way (the worker's
 * WindowError is rethrown as one).
 */
@Injectable()
export class DetectScoring implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('DetectScoring');
  private worker: ScoringWorker | null = null;
  private closed = false;

  constructor(
    @Inject(ANOMALY_DETECTOR) private readonly holder: DetectorHolder,
    @Inject(CONFIG) private readonly config: AppConfig,
  ) {}

  /** Started in the background: requests are scored in-process until the worker has loaded its models. */
  onApplicationBootstrap(): void {
    const detector = this.holder.scorer as AnomalyDetector | null;
    if (!detector || usableCpus() < 2) return;
    if (!ScoringWorker.available()) {
      this.logger.debug('no compiled scoring worker (running from sources): detect scores in-process');
      return;
    }
    ScoringWorker.start({ modelsDir: this.config.MODELS_DIR, version: detector.version, flags: detector.flags, sensors: detector.sensors.map((s) => s.id) }).then(
      (worker) => {
        if (this.closed) return void worker.close();
        this.worker = worker;
        this.logger.log({ model_version: worker.version }, 'detect scores windows on a worker thread');
      },
      (error: unknown) => this.logger.warn({ err: error }, 'scoring worker did not start: detect scores in-process'),
    );
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    await this.worker?.close();
  }

  async scoreWindow(detector: AnomalyDetector, samples: readonly Sample[]): Promise<DetectionResult> {
    const worker = this.workerFor(detector);
    if (worker) {
      try {
        const scored = worker.scoreWindow(samples);
        if (scored) return await scored;
      } catch (error) {
        this.lost(error);
      }
    }
    return (await detector.scoreWindow(samples)).result;
  }

  /**
   * A detect request's JSON body scored by the worker when it is a window detect accepts as it is (parsed and
   * checked there); null when there is no worker or the body needs the
   * full path (Fastify's parser, zod and the sensor check, which name each bad field).
   */
  async scoreJson(detector: AnomalyDetector, json: Buffer): Promise<DetectionResult | null> {
    const worker = this.workerFor(detector);
    if (!worker || !json.includes(SAMPLES_KEY)) return null;
    try {
      return await worker.scoreJson(json);
    } catch (error) {
      this.lost(error);
      return null;
    }
  }

  private workerFor(detector: AnomalyDetector): ScoringWorker | null {
    const worker = this.worker;
    return worker?.usable && worker.version === detector.version ? worker : null;
  }

  /** Rethrows what is not the worker's loss (a WindowError is the request's); else scores in-process from now on. */
  private lost(error: unknown): void {
    if (!(error instanceof ScoringWorkerUnavailableError)) throw error;
    this.logger.warn({ err: error }, 'scoring worker lost: detect scores in-process');
    this.worker = null;
  }
}
