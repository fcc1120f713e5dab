import { Inject, Module, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { comparePositions, type EventStore } from '../event-store/event-store.js';
import { EVENT_STORE } from '../infrastructure/tokens.js';
import { beforeScrape, metrics } from '../observability/metrics.js';
import { ProjectionRunner } from '../projections/projection-runner.js';
import { ProjectionsModule } from '../projections/projections.module.js';
import { ApiKeyGuard } from './auth/api-key.guard.js';
import { ContentTypeGuard } from './content-type.guard.js';
import { MetricsController } from './metrics.controller.js';
import { OpenApiController } from './openapi/openapi.controller.js';
import { OpenApiDocumentService } from './openapi/openapi-document.service.js';

/** Cross-cutting HTTP: API-key guard, /metrics, /openapi.json (request timeout, /docs and the test-only response check: app.factory.ts). */
@Module({
  imports: [DiscoveryModule, ProjectionsModule],
  controllers: [MetricsController, OpenApiController],
  providers: [
    OpenApiDocumentService,
    { provide: APP_GUARD, useClass: ApiKeyGuard },
    // after the key check: an unauthenticated caller learns nothing about a route's body
    { provide: APP_GUARD, useClass: ContentTypeGuard },
    // No global interceptor: with none, Nest calls handlers without building an rxjs pipeline per request. The
    // request timeout is a pair of Fastify hooks (handler-timeout.ts); ResponseValidationInterceptor is added by
    // createApp in tests only.
  ],
  exports: [OpenApiDocumentService],
})
export class HttpPlatformModule implements OnModuleInit, OnModuleDestroy {
  private unregister: (() => void) | undefined;

  constructor(
    private readonly projections: ProjectionRunner,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  /**
   * Projection lag is measured at scrape time: events behind the head (set by status()), and 0 s for a
   * projection at the head (the runner sets the age of the newest event while it works through a backlog).
   */
  onModuleInit(): void {
    this.unregister = beforeScrape(async () => {
      const [statuses, head] = await Promise.all([this.projections.status(), this.store.headPosition()]);
      for (const s of statuses)
        if (!head || (s.checkpoint && comparePositions(s.checkpoint, head) >= 0)) metrics.projectionLagSeconds.set({ projection: s.name }, 0);
    });
  }

  onModuleDestroy(): void {
    this.unregister?.();
  }
}
