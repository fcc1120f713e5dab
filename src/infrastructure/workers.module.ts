import { Inject, Injectable, Logger, Module, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { AppConfig } from '../config/config.schema.js';
import type { Database } from '../database/database.js';
import { InferenceSagaModule, InferenceSagaService } from '../inference/inference-saga.module.js';
import { readPartitionCount } from '../projections/checkpoints.js';
import { createLeaseBackend } from '../projections/partitions/create-lease-backend.js';
import { LeaseCoordinator, type WorkUnit } from '../projections/partitions/lease-coordinator.js';
import { PARTITION_COUNT } from '../projections/partitions/tokens.js';
import { ProjectionRunner } from '../projections/projection-runner.js';
import { ProjectionsModule } from '../projections/projections.module.js';
import { CONFIG, DATABASE } from './tokens.js';

/**
 * Runs the work units (projections, partitions of the heavy projections and of the saga) this process holds
 * leases for: all of them with ROLE=all on one process, a fair share with ROLE=worker, none with ROLE=api.
 */
@Injectable()
export class Workers implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Workers');
  readonly coordinator: LeaseCoordinator | null;
  readonly units: readonly WorkUnit[];

  constructor(
    @Inject(CONFIG) private readonly config: AppConfig,
    @Inject(DATABASE) database: Database,
    @Inject(PARTITION_COUNT) readonly partitions: number,
    runner: ProjectionRunner,
    sagaService: InferenceSagaService,
  ) {
    const wanted = config.WORKER_CONSUMERS;
    this.units = [...runner.units, ...(sagaService.saga?.units ?? [])].filter((u) => !wanted || wanted.includes(u.consumer));
    this.coordinator =
      config.ROLE === 'api'
        ? null
        : new LeaseCoordinator(createLeaseBackend(config, database), database.db, this.units, {
            intervalMs: config.LEASE_INTERVAL_MS,
            stale: async () => (await readPartitionCount(database.db)) !== partitions,
            log: (level, message, details) => this.logger[level === 'warn' ? 'warn' : level === 'error' ? 'error' : 'log'](details ?? {}, message),
          });
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.coordinator) return;
    await this.coordinator.start();
    this.logger.log({ worker: this.coordinator.workerId, partitions: this.partitions, units: this.units.length, held: this.coordinator.held().length }, 'worker started');
  }

  /** Every unit finishes the batch in hand and commits its checkpoint, then the leases go; before the pools close. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.coordinator?.stop();
  }
}

@Module({
  imports: [ProjectionsModule, InferenceSagaModule],
  providers: [Workers],
  exports: [Workers],
})
export class WorkersModule {}
