import {
  Inject,
  Injectable,
  Logger,
  Module,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { AppConfig } from '../config/config.schema.js';
import type { Database } from '../database/database.js';
import type { EventStore } from '../event-store/event-store.js';
import { CONFIG, DATABASE, EVENT_STORE } from '../infrastructure/tokens.js';
import { beforeScrape } from '../observability/metrics.js';
import { ProjectionsModule } from '../projections/projections.module.js';
import { PARTITION_COUNT } from '../projections/partitions/tokens.js';
import { PartitionedInferenceSaga } from './partitioned-inference-saga.js';
import { ANOMALY_DETECTOR, type ScorerLoader, type WindowScorer } from './window-scorer.js';

/** The loaded ensemble. Loading fails fast: a service with missing or tampered models does not start. */
export interface DetectorHolder {
  scorer: WindowScorer | null;
  error?: string;
  close(): Promise<void>;
}

function detectorOptions(config: AppConfig, version: string | undefined) {
  return {
    modelsDir: config.MODELS_DIR,
    version,
    flags: { rf: config.MODEL_RF, xgb: config.MODEL_XGB, helm: config.MODEL_HELM, adaptive: config.MODEL_ADAPTIVE },
  };
}

/** Loads src/inference/anomaly-detector.ts from MODELS_DIR / MODEL_VERSION / MODEL_* flags; throws a RegistryError naming the problem. */
export async function loadDetector(config: AppConfig): Promise<DetectorHolder> {
  const { AnomalyDetector } = await import('./anomaly-detector.js');
  const detector = await AnomalyDetector.load(detectorOptions(config, config.MODEL_VERSION));
  return { scorer: detector as unknown as WindowScorer, close: () => detector.close() };
}

/** Loads another version for the saga when a ModelVersionPromoted event names it. */
export function versionLoader(config: AppConfig): ScorerLoader {
  return async (version) => {
    const { AnomalyDetector } = await import('./anomaly-detector.js');
    return (await AnomalyDetector.load(detectorOptions(config, version))) as unknown as WindowScorer;
  };
}

@Injectable()
export class InferenceSagaService implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('InferenceSaga');
  /** Its partitions are work units: the workers module runs the ones this process holds (ROLE all | worker). */
  readonly saga: PartitionedInferenceSaga | null;
  private unregister: (() => void) | undefined;

  constructor(
    @Inject(DATABASE) database: Database,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(ANOMALY_DETECTOR) private readonly detector: DetectorHolder,
    @Inject(CONFIG) private readonly config: AppConfig,
    @Inject(PARTITION_COUNT) partitions: number,
  ) {
    this.saga = detector.scorer
      ? new PartitionedInferenceSaga(
          database,
          store,
          detector.scorer,
          {
            flushTimeoutMs: config.SAGA_FLUSH_TIMEOUT_MS,
            batchSize: config.PROJECTION_BATCH_SIZE,
            loadVersion: versionLoader(config),
            log: (level, message, details) => this.logger[level === 'warn' ? 'warn' : level === 'error' ? 'error' : 'log'](details ?? {}, message),
          },
          partitions,
        )
      : null;
  }

  onApplicationBootstrap(): void {
    if (!this.saga) {
      this.logger.warn({ models_dir: this.config.MODELS_DIR, err: this.detector.error }, 'no model loaded: inference saga and analyses are off');
      return;
    }
    if (this.config.ROLE === 'api') return;
    // projection_lag_events{projection="inference-saga…"} is measured at scrape time, like the projections'.
    const saga = this.saga;
    this.unregister = beforeScrape(async () => void saga.status(await this.store.headPosition()));
  }

  /** The workers module has stopped the partitions (each committed its batch in hand) before this runs. */
  async beforeApplicationShutdown(): Promise<void> {
    this.unregister?.();
    await this.saga?.stop();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.saga?.close();
    await this.detector.close();
  }
}

@Module({
  imports: [ProjectionsModule],
  providers: [{ provide: ANOMALY_DETECTOR, inject: [CONFIG], useFactory: loadDetector }, InferenceSagaService],
  exports: [ANOMALY_DETECTOR, InferenceSagaService],
})
export class InferenceSagaModule {}
