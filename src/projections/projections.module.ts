import { Inject, Logger, Module, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { AppConfig } from '../config/config.schema.js';
import type { Database } from '../database/database.js';
import type { EventStore } from '../event-store/event-store.js';
import { CONFIG, DATABASE, EVENT_STORE } from '../infrastructure/tokens.js';
import type { Projection } from './projection.js';
import { ProjectionRunner } from './projection-runner.js';
import { AnalysesProjection } from './analyses.projection.js';
import { AnomalyResultsProjection } from './anomaly-results.projection.js';
import { QuarantineProjection } from './quarantine.projection.js';
import { SensorReadingsProjection } from './sensor-readings.projection.js';
import { readSideProjections } from './read-side-projections.js';

export const PROJECTIONS = Symbol('PROJECTIONS');

/** Every projection the service runs; new read models are added here. */
export function allProjections(): Projection[] {
  return [new SensorReadingsProjection(), new QuarantineProjection(), new AnomalyResultsProjection(), new AnalysesProjection(), ...readSideProjections()];
}

@Module({
  providers: [
    { provide: PROJECTIONS, useFactory: allProjections },
    {
      provide: ProjectionRunner,
      inject: [DATABASE, EVENT_STORE, PROJECTIONS, CONFIG],
      useFactory: (database: Database, store: EventStore, projections: Projection[], config: AppConfig) =>
        new ProjectionRunner(database, store, projections, {
          batchSize: config.PROJECTION_BATCH_SIZE,
          onError: (name, error) => new Logger('Projections').error({ err: error, projection: name }, 'projection stopped'),
        }),
    },
  ],
  exports: [ProjectionRunner, PROJECTIONS],
})
export class ProjectionsModule implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    private readonly runner: ProjectionRunner,
    @Inject(CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.ROLE !== 'api') await this.runner.start();
  }

  /** Finishes the batch in hand and commits its checkpoint; runs before the pools close (onApplicationShutdown). */
  async beforeApplicationShutdown(): Promise<void> {
    await this.runner.stop();
  }
}
