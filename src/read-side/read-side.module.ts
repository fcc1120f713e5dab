import { Inject, Logger, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { AppConfig } from '../config/config.schema.js';
import type { Database } from '../database/database.js';
import { timescaleStatus } from '../database/timescale-status.js';
import { CONFIG, DATABASE } from '../infrastructure/tokens.js';
import { ActiveModelVersionProjection } from '../projections/active-model-version.projection.js';
import { AnomalyTrendProjection } from '../projections/anomaly-trend.projection.js';
import type { Projection } from '../projections/projection.js';
import { PROJECTIONS, ProjectionsModule } from '../projections/projections.module.js';
import { GetSystemEventsHandler } from '../queries/audit/get-system-events.handler.js';
import { SystemEventsController } from '../queries/audit/system-events.controller.js';
import { GetSystemHealthHandler } from '../queries/health/get-system-health.handler.js';
import { healthBucketFor, MemoryHealthCache, NatsKvHealthCache, type HealthCache } from '../queries/health/health-cache.js';
import { SystemHealthController } from '../queries/health/system-health.controller.js';
import { ListSystemsHandler } from '../queries/systems/list-systems.handler.js';
import { SystemsController } from '../queries/systems/systems.controller.js';
import { AnomalyTrendController } from '../queries/trend/anomaly-trend.controller.js';
import { GetAnomalyTrendHandler } from '../queries/trend/get-anomaly-trend.handler.js';
import { ActiveModelVersionProvider } from './active-model-version.provider.js';
import { readModelsMessage } from './read-models-message.js';
import { HEALTH_CACHE } from './read-side.tokens.js';

/** Trend, health, systems list and audit queries; the health cache; the active model version for the saga. */
@Module({
  imports: [ProjectionsModule],
  controllers: [SystemsController, AnomalyTrendController, SystemHealthController, SystemEventsController],
  providers: [
    GetAnomalyTrendHandler,
    GetSystemHealthHandler,
    ListSystemsHandler,
    GetSystemEventsHandler,
    {
      provide: HEALTH_CACHE,
      inject: [CONFIG],
      useFactory: async (config: AppConfig): Promise<HealthCache> => {
        const ttlMs = config.HEALTH_CACHE_TTL_SECONDS * 1000;
        return config.NATS_URL ? NatsKvHealthCache.connect(config.NATS_URL, ttlMs, healthBucketFor(config)) : new MemoryHealthCache(ttlMs);
      },
    },
    { provide: ActiveModelVersionProvider, inject: [DATABASE], useFactory: (db: Database) => new ActiveModelVersionProvider(db) },
  ],
  exports: [ActiveModelVersionProvider, HEALTH_CACHE],
})
export class ReadSideModule implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('ReadSide');

  constructor(
    @Inject(DATABASE) private readonly database: Database,
    @Inject(PROJECTIONS) private readonly projections: Projection[],
    @Inject(HEALTH_CACHE) private readonly cache: HealthCache,
    private readonly activeVersion: ActiveModelVersionProvider,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const status = await timescaleStatus(this.database.db);
    this.logger.log(
      { backend: this.database.backend, timescaledb: status.timescaledb, healthCache: this.cache.kind },
      readModelsMessage(this.database.backend, status),
    );
    // Projection -> cache invalidation: a newly projected anomaly or verdict drops that system's health entry.
    for (const p of this.projections) {
      if (p instanceof AnomalyTrendProjection) p.onSystemsChanged((systems) =>
          // A cache outage must not stop the projection: the TTL bounds staleness.
          this.cache.invalidate(systems).catch((err: unknown) => this.logger.warn({ err }, 'health cache invalidation failed')),
        );
      if (p instanceof ActiveModelVersionProjection) p.onPromoted(() => this.activeVersion.invalidate());
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.cache.close();
  }
}
