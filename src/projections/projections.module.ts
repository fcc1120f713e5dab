import { Logger, Module } from '@nestjs/common';
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
import { resolvePartitionCount } from './partitions/partition-count.js';
import { PARTITION_COUNT } from './partitions/tokens.js';

export const PROJECTIONS = Symbol('PROJECTIONS');

/** Every projection the service runs; new read models are added here. */
export function allProjections(): Projection[] {
  return [new SensorReadingsProjection(), new QuarantineProjection(), new AnomalyResultsProjection(), new AnalysesProjection(), ...readSideProjections()];
}

@Module({
  providers: [
    { provide: PROJECTIONS, useFactory: allProjections },
    {
      provide: PARTITION_COUNT,
      inject: [DATABASE, CONFIG],
      useFactory: async (database: Database, config: AppConfig) => {
        const { partitions } = await resolvePartitionCount(database.db, config.PARTITIONS);
        if (config.PARTITIONS !== undefined && config.PARTITIONS !== partitions) {
          new Logger('Partitions').warn({ stored: partitions, configured: config.PARTITIONS }, 'PARTITIONS differs from the deployment\'s stored partition count, which is used: change it with `projections repartition`');
        }
        return partitions;
      },
    },
    {
      provide: ProjectionRunner,
      inject: [DATABASE, EVENT_STORE, PROJECTIONS, CONFIG, PARTITION_COUNT],
      useFactory: (database: Database, store: EventStore, projections: Projection[], config: AppConfig, partitions: number) =>
        new ProjectionRunner(database, store, projections, {
          batchSize: config.PROJECTION_BATCH_SIZE,
          partitions,
          onError: (name, error) => new Logger('Projections').error({ err: error, projection: name }, 'projection stopped'),
        }),
    },
  ],
  exports: [ProjectionRunner, PROJECTIONS, PARTITION_COUNT],
})
/** The projections as work units; the workers module (src/infrastructure/workers.module.ts) runs the ones this process holds. */
export class ProjectionsModule {}
