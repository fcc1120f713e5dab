import { Controller, Get, Inject } from '@nestjs/common';
import { z } from 'zod';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { sql } from 'kysely';
import type { Database } from '../database/database.js';
import type { EventStore } from '../event-store/event-store.js';
import { DATABASE, EVENT_STORE } from '../infrastructure/tokens.js';
import { ProjectionRunner } from '../projections/projection-runner.js';
import { Public } from './auth/require-scope.decorator.js';
import { ApiOperation } from './openapi/api-operation.decorator.js';
import { problemResponse } from './openapi/problem.schema.js';

const check = z.object({ status: z.enum(['up', 'down']) }).catchall(z.unknown());
export const healthResponse = z
  .object({
    status: z.enum(['ok', 'error', 'shutting_down']),
    info: z.record(z.string(), check).optional(),
    error: z.record(z.string(), check).optional(),
    details: z.record(z.string(), check),
  })
  .meta({ id: 'HealthResult' });

@Controller('health')
@Public()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicator: HealthIndicatorService,
    @Inject(DATABASE) private readonly database: Database,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly projections: ProjectionRunner,
  ) {}

  /** The process is running and its event loop answers. */
  @Get('live')
  @HealthCheck()
  @ApiOperation({
    summary: 'Liveness: the process runs and its event loop answers',
    tags: ['operations'],
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

  /** Ready to serve: database and event store answer, projections have caught up once and none failed. */
  @Get('ready')
  @HealthCheck()
  @ApiOperation({
    summary: 'Readiness: database, event store, NATS (when configured), models and projection lag',
    tags: ['operations'],
    responses: {
      200: { schema: healthResponse },
      503: problemResponse('Not ready; `checks` holds each check'),
    },
  })
  ready() {
    return this.health.check([
      async () => {
        const check = this.indicator.check('database');
        try {
          await sql`select 1`.execute(this.database.db);
          return check.up({ backend: this.database.backend });
        } catch (error) {
          return check.down({ message: (error as Error).message });
        }
      },
      async () => {
        const check = this.indicator.check('event_store');
        try {
          await this.store.headPosition();
          return check.up({ adapter: this.store.adapter });
        } catch (error) {
          return check.down({ message: (error as Error).message });
        }
      },
      async () => {
        const check = this.indicator.check('projections');
        const statuses = await this.projections.status();
        const failed = statuses.filter((s) => s.error);
        const behind = statuses.filter((s) => !s.caughtUp);
        const details = Object.fromEntries(statuses.map((s) => [s.name, { caught_up: s.caughtUp, error: s.error }]));
        return failed.length || behind.length ? check.down(details) : check.up(details);
      },
    ]);
  }
}
