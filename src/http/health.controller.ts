import { Controller, Get, Inject, Req, ServiceUnavailableException, type OnApplicationShutdown } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ModuleRef } from '@nestjs/core';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { sql } from 'kysely';
import { z } from 'zod';
import type { AppConfig } from '../config/config.schema.js';
import type { Database } from '../database/database.js';
import type { EventStore } from '../event-store/event-store.js';
import { InferenceSagaService, type DetectorHolder } from '../inference/inference-saga.module.js';
import { ANOMALY_DETECTOR } from '../inference/window-scorer.js';
import { CONFIG, DATABASE, EVENT_STORE } from '../infrastructure/tokens.js';
import { Workers } from '../infrastructure/workers.module.js';
import { readAllCheckpoints } from '../projections/checkpoints.js';
import { ProjectionRunner } from '../projections/projection-runner.js';
import type { AuthenticatedRequest } from './auth/authenticate.hook.js';
import { Public } from './auth/require-scope.decorator.js';
import { ProblemError } from './problem.js';
import { ApiOperation } from './openapi/api-operation.decorator.js';
import { problemResponse } from './openapi/problem.schema.js';

const check = z.object({ status: z.enum(['up', 'down']) }).catchall(z.unknown());
export const healthResponse = z
  .object({
    status: z.enum(['ok', 'error', 'shutting_down']),
    info: z.record(z.string(), check).optional(),
    error: z.record(z.string(), check).optional(),
    details: z.record(z.string(), check).optional().meta({ description: 'Each check; /health/ready shows them only to a request with a valid API key' }),
  })
  .meta({ id: 'HealthResult' });

const CHECK_TIMEOUT_MS = 2_000;

function within<T>(promise: Promise<T>, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} did not answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS).unref()),
  ]);
}

@Controller('health')
@Public()
export class HealthController implements OnApplicationShutdown {
  private nats: Promise<NatsConnection> | undefined;

  constructor(
    private readonly health: HealthCheckService,
    private readonly indicator: HealthIndicatorService,
    @Inject(DATABASE) private readonly database: Database,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CONFIG) private readonly config: AppConfig,
    private readonly projections: ProjectionRunner,
    private readonly modules: ModuleRef,
  ) {}

  /** The process is running and its event loop answers. */
  @Get('live')
  @HealthCheck()
  @ApiOperation({
    summary: 'Liveness: the process runs and its event loop answers',
    tags: ['operations'],
    operationId: 'getLiveness',
    responses: {
      200: {
        schema: healthResponse,
        examples: { up: { status: 'ok', info: { process: { status: 'up', uptime_s: 12 } }, error: {}, details: { process: { status: 'up', uptime_s: 12 } } } },
      },
    },
  })
  live() {
    return this.health.check([async () => this.indicator.check('process').up({ uptime_s: Math.round(process.uptime()) })]);
  }

  /**
   * Ready to serve: database, event store and (when configured) NATS answer, a model is loaded, and every
   * projection (and the inference saga) has caught up once, has not failed, and is at most
   * READY_MAX_LAG_EVENTS behind the head of the log.
   */
  @Get('ready')
  @HealthCheck()
  @ApiOperation({
    summary: 'Readiness: database, event store, NATS (when configured), models and projection lag',
    tags: ['operations'],
    operationId: 'getReadiness',
    responses: {
      200: { schema: healthResponse },
      503: problemResponse('Not ready; `checks` holds each check (with a valid API key only)'),
    },
  })
  async ready(@Req() request: FastifyRequest & AuthenticatedRequest) {
    // Open to anyone: up or down. The checks name hosts and carry driver messages: only for a valid key
    // (or with authentication off, when every route is open anyway).
    const detailed = !request.authFailure;
    try {
      const result = await this.checkReadiness();
      return detailed ? result : { status: result.status };
    } catch (error) {
      if (!detailed && error instanceof ServiceUnavailableException) throw new ProblemError('unavailable', 'not ready: at least one check is down (send an API key for the detail)');
      throw error;
    }
  }

  private checkReadiness() {
    return this.health.check([
      async () => {
        const check = this.indicator.check('database');
        try {
          await within(sql`select 1`.execute(this.database.db), 'database');
          return check.up({ backend: this.database.backend });
        } catch (error) {
          return check.down({ message: (error as Error).message });
        }
      },
      async () => {
        const check = this.indicator.check('event_store');
        try {
          await within(this.store.headPosition(), 'event store');
          return check.up({ adapter: this.store.adapter });
        } catch (error) {
          return check.down({ message: (error as Error).message });
        }
      },
      ...(this.config.NATS_URL
        ? [
            async () => {
              const check = this.indicator.check('nats');
              try {
                this.nats ??= connect({ servers: this.config.NATS_URL, name: 'readiness', maxReconnectAttempts: -1 });
                const rtt = await within(this.nats.then((nc) => nc.rtt()), 'NATS');
                return check.up({ rtt_ms: Math.round(rtt * 100) / 100 });
              } catch (error) {
                // A connect that failed (NATS was down at the first check) is not kept: the next check connects again.
                if (this.nats && (await this.nats.then(() => false, () => true))) this.nats = undefined;
                return check.down({ message: (error as Error).message });
              }
            },
          ]
        : []),
      async () => {
        const check = this.indicator.check('models');
        const holder = this.optional<DetectorHolder>(ANOMALY_DETECTOR);
        if (!holder) return check.up({ loaded: false, note: 'no inference module in this build' });
        return holder.scorer ? check.up({ version: holder.scorer.version }) : check.down({ message: holder.error ?? 'no model loaded' });
      },
      async () => {
        const check = this.indicator.check('projections');
        let head;
        try {
          head = await within(this.store.headPosition(), 'event store');
        } catch (error) {
          return check.down({ message: `lag unknown: ${(error as Error).message}` });
        }
        let statuses: { name: string; checkpoint?: { prepare: number }; caughtUp: boolean; error?: string }[];
        if (this.config.ROLE === 'api') {
          // Runs none: the workers' stored checkpoints, reported, never making the API unready.
          statuses = (await readAllCheckpoints(this.database.db)).map(({ name, position }) => ({ name, checkpoint: position, caughtUp: true }));
        } else {
          // The units this process holds (every one with ROLE=all).
          statuses = await this.projections.status();
          const saga = this.optional<InferenceSagaService>(InferenceSagaService)?.saga;
          if (saga) statuses.push(...saga.status(head));
        }
        const max = this.config.READY_MAX_LAG_EVENTS;
        const details = Object.fromEntries(
          statuses.map((s) => {
            const lag = head ? Math.max(0, head.prepare - (s.checkpoint?.prepare ?? 0)) : 0;
            return [s.name, { caught_up: s.caughtUp, lag_events: lag, ...(s.error ? { error: s.error } : {}) }];
          }),
        );
        const bad = Object.values(details).some((d) => d.error || !d.caught_up || d.lag_events > max);
        return bad && this.config.ROLE !== 'api' ? check.down({ max_lag_events: max, ...details }) : check.up({ max_lag_events: max, ...details });
      },
      async () => {
        // Issue #19: what this worker holds of the deployment's P partitions, and how often that changed.
        const check = this.indicator.check('partitions');
        const workers = this.optional<Workers>(Workers);
        const coordinator = workers?.coordinator;
        if (!workers || !coordinator) return check.up({ partitions: workers?.partitions ?? 1, role: this.config.ROLE, held: 0 });
        const held = coordinator.held();
        if (coordinator.halted) return check.down({ partitions: workers.partitions, worker: coordinator.workerId, message: coordinator.halted });
        return check.up({
          partitions: workers.partitions,
          role: this.config.ROLE,
          worker: coordinator.workerId,
          workers: coordinator.workers(),
          units: workers.units.length,
          held: held.length,
          leases: held,
          rebalances: coordinator.rebalances,
        });
      },
    ]);
  }

  async onApplicationShutdown(): Promise<void> {
    const nats = this.nats;
    this.nats = undefined;
    if (nats) await nats.then((nc) => nc.close()).catch(() => undefined);
  }

  private optional<T>(token: unknown): T | undefined {
    try {
      return this.modules.get<T>(token as never, { strict: false });
    } catch {
      return undefined;
    }
  }
}
