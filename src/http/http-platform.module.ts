import { Module, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR, DiscoveryModule } from '@nestjs/core';
import { beforeScrape } from '../observability/metrics.js';
import { ProjectionRunner } from '../projections/projection-runner.js';
import { ProjectionsModule } from '../projections/projections.module.js';
import { ApiKeyGuard } from './auth/api-key.guard.js';
import { MetricsController } from './metrics.controller.js';
import { OpenApiController } from './openapi/openapi.controller.js';
import { OpenApiDocumentService } from './openapi/openapi-document.service.js';
import { TimeoutInterceptor } from './timeout.interceptor.js';

/** Cross-cutting HTTP: API-key guard, request timeout, /metrics, /openapi.json (and /docs, see app.factory.ts). */
@Module({
  imports: [DiscoveryModule, ProjectionsModule],
  controllers: [MetricsController, OpenApiController],
  providers: [
    OpenApiDocumentService,
    { provide: APP_GUARD, useClass: ApiKeyGuard },
    { provide: APP_INTERCEPTOR, useClass: TimeoutInterceptor },
  ],
  exports: [OpenApiDocumentService],
})
export class HttpPlatformModule implements OnModuleInit, OnModuleDestroy {
  private unregister: (() => void) | undefined;

  constructor(private readonly projections: ProjectionRunner) {}

  /** projection_lag_events is measured at scrape time (one head-position query). */
  onModuleInit(): void {
    this.unregister = beforeScrape(() => this.projections.status());
  }

  onModuleDestroy(): void {
    this.unregister?.();
  }
}
