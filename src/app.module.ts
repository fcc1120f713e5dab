import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { TerminusModule } from '@nestjs/terminus';
import { AnalysisModule } from './commands/analyze-system/analysis.module.js';
import { IngestBackpressure } from './commands/ingest-readings/ingest-backpressure.js';
import { IngestController } from './commands/ingest-readings/ingest.controller.js';
import { IngestReadingsHandler } from './commands/ingest-readings/ingest-readings.handler.js';
import type { AppConfig } from './config/config.schema.js';
import { ConsoleModule } from './console/console.module.js';
import { HealthController } from './http/health.controller.js';
import { HttpPlatformModule } from './http/http-platform.module.js';
import { ProblemFilter } from './http/problem.filter.js';
import { InferenceSagaModule } from './inference/inference-saga.module.js';
import { InfrastructureModule } from './infrastructure/infrastructure.module.js';
import { WorkersModule } from './infrastructure/workers.module.js';
import { ProjectionsModule } from './projections/projections.module.js';
import { DetectModule } from './queries/detect/detect.module.js';
import { GetQuarantineHandler } from './queries/quarantine/get-quarantine.handler.js';
import { QuarantineController } from './queries/quarantine/quarantine.controller.js';
import { GetReadingsHandler } from './queries/readings/get-readings.handler.js';
import { ReadingsController } from './queries/readings/readings.controller.js';
import { ReadSideModule } from './read-side/read-side.module.js';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CqrsModule.forRoot(),
        TerminusModule.forRoot({ errorLogStyle: 'json' }),
        InfrastructureModule.forRoot(config),
        ProjectionsModule,
        ReadSideModule,
        HttpPlatformModule,
        AnalysisModule,
        DetectModule,
        // the loaded model's sensor ranges, which ingest enforces as detect does
        InferenceSagaModule,
        WorkersModule,
        ConsoleModule,
      ],
      controllers: [IngestController, ReadingsController, QuarantineController, HealthController],
      providers: [
        { provide: APP_FILTER, useClass: ProblemFilter },
        IngestReadingsHandler,
        IngestBackpressure,
        GetReadingsHandler,
        GetQuarantineHandler,
      ],
    };
  }
}
