import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { AppConfig } from '../../config/config.schema.js';
import type { Database } from '../../database/database.js';
import { comparePositions, type EventStore, type Position } from '../../event-store/event-store.js';
import { ProblemError } from '../../http/problem.js';
import { INFERENCE_SAGA } from '../../inference/inference.saga.js';
import { InferenceSagaService } from '../../inference/inference-saga.module.js';
import { CONFIG, DATABASE, EVENT_STORE } from '../../infrastructure/tokens.js';
import { metrics } from '../../observability/metrics.js';
import { readConsumerCheckpoints } from '../../projections/checkpoints.js';
import type { Projection } from '../../projections/projection.js';
import { PROJECTIONS } from '../../projections/projections.module.js';
import { decideGate, type GateDecision, type LagSample } from './backpressure-gate.js';

const SAMPLE_MS = 500;

/**
 * Ingest backpressure (issue #17): samples, every 500 ms, how long the oldest event that the slowest projection
 * or the saga has not processed has been waiting, from the stored checkpoints (so an API-only replica sees the
 * workers' lag too), and closes ingest while it is too long. A request then costs one comparison.
 * When the store does not answer, the last sample stands: ingest itself then fails with 503 (unavailable).
 */
@Injectable()
export class IngestBackpressure implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('IngestBackpressure');
  private sample: LagSample = { lagSeconds: 0 };
  private decision: GateDecision = { open: true };
  private timer: NodeJS.Timeout | undefined;
  private sampling = false;

  constructor(
    @Inject(CONFIG) private readonly config: AppConfig,
    @Inject(DATABASE) private readonly database: Database,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(PROJECTIONS) private readonly projections: Projection[],
    private readonly modules: ModuleRef,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.INGEST_MAX_LAG_SECONDS <= 0) return;
    this.timer = setInterval(() => void this.refresh(), SAMPLE_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Throws the 503 problem while the gate is closed. */
  admit(): void {
    const decision = this.decision;
    if (decision.open) return;
    metrics.backpressureRejections.inc();
    const max = this.config.INGEST_MAX_LAG_SECONDS;
    throw new ProblemError(
      'overloaded',
      `${this.sample.behind ?? 'a projection'} is ${this.sample.lagSeconds.toFixed(1)} s behind (bound INGEST_MAX_LAG_SECONDS=${max}); nothing of this request was stored: retry after ${decision.retryAfterSeconds} s`,
      undefined,
      { 'retry-after': String(decision.retryAfterSeconds) },
      { lag_seconds: round(this.sample.lagSeconds), max_lag_seconds: max, behind: this.sample.behind },
    );
  }

  /** One sample now (also used by tests). */
  async refresh(): Promise<void> {
    if (this.sampling) return;
    this.sampling = true;
    try {
      this.sample = await this.measure();
      this.decision = decideGate(this.sample, this.config.INGEST_MAX_LAG_SECONDS);
      metrics.backpressureLagSeconds.set(round(this.sample.lagSeconds));
      const active = this.decision.open ? 0 : 1;
      if (active !== (await metrics.backpressureActive.get()).values[0]?.value) {
        this.logger[active ? 'warn' : 'log']({ lag_seconds: round(this.sample.lagSeconds), behind: this.sample.behind }, active ? 'ingest backpressure on' : 'ingest backpressure off');
      }
      metrics.backpressureActive.set(active);
    } catch {
      /* the store or database is down: keep the last decision (ingest fails on its own meanwhile) */
    } finally {
      this.sampling = false;
    }
  }

  private async measure(): Promise<LagSample> {
    const head = await this.store.headPosition();
    if (!head) return { lagSeconds: 0 };
    const names = this.projections.map((p) => p.name);
    if (this.sagaRuns()) names.push(INFERENCE_SAGA);
    const stored = await readConsumerCheckpoints(this.database.db, names);
    let slowest: { name: string; at: Position | undefined } | undefined;
    for (const name of names) {
      const at = stored.get(name);
      if (at && comparePositions(at, head) >= 0) continue;
      // No checkpoint yet: it starts from the beginning of the log, the slowest there can be.
      if (!slowest || (slowest.at && (!at || comparePositions(at, slowest.at) < 0))) slowest = { name, at };
    }
    if (!slowest) return { lagSeconds: 0 };
    const [oldest] = await this.store.readAll({ after: slowest.at, limit: 1 });
    if (!oldest) return { lagSeconds: 0 };
    return { lagSeconds: Math.max(0, (Date.now() - Date.parse(oldest.createdAt)) / 1000), behind: slowest.name };
  }

  /** The saga counts where a model is loaded (it runs on this process or on a worker with the same models). */
  private sagaRuns(): boolean {
    try {
      return Boolean(this.modules.get(InferenceSagaService, { strict: false }).saga);
    } catch {
      return false;
    }
  }
}

function round(seconds: number): number {
  return Math.round(seconds * 10) / 10;
}
