import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { RequireScope } from '../../http/auth/require-scope.decorator.js';
import { DeferJsonBody, DeferredJsonBody } from '../../http/deferred-json-body.js';
import { ApiOperation } from '../../http/openapi/api-operation.decorator.js';
import { problemResponse } from '../../http/openapi/problem.schema.js';
import { DetectQuery } from './detect.query.js';
import { detectBody, detectResponse, parseDetectBody } from './detect.schema.js';

const healthySample = {
  PS1: 160.7, PS2: 109.5, PS3: 1.99, PS4: 0, PS5: 9.84, PS6: 9.73, EPS1: 2539, FS1: 6.7, FS2: 10.2,
  TS1: 35.6, TS2: 40.9, TS3: 38.3, TS4: 31.0, VS1: 0.57, CE: 39.6, CP: 1.86, SE: 59.2,
};

@Controller('api/v1/detect')
export class DetectController {
  constructor(private readonly queries: QueryBus) {}

  @Post()
  @HttpCode(200)
  @RequireScope('detect')
  // Parsed by the handler: on the fast path in the scoring worker, off the main thread.
  @DeferJsonBody()
  @ApiOperation({
    summary: 'Score one sample or one window with the active ensemble (nothing is recorded)',
    tags: ['detect'],
    operationId: 'detectAnomalies',
    body: {
      content: { 'application/json': detectBody },
      examples: { 'application/json': { 'one sample': { equipment_id: 'rig-1', values: healthySample } } },
    },
    responses: {
      200: { schema: detectResponse, description: 'Ensemble verdict, per-component condition and per-model votes' },
      503: problemResponse('No model is loaded'),
    },
  })
  detect(@Body() body: unknown) {
    return this.queries.execute(new DetectQuery(body instanceof DeferredJsonBody ? body : parseDetectBody(body)));
  }
}
