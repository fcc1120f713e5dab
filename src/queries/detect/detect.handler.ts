import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { toOperatingConditionsItem } from '../../events/anomaly-detected.event.js';
import type { AnomalyDetector, DetectionResult } from '../../inference/anomaly-detector.js';
import { WindowError } from '../../inference/anomaly-detector.js';
import type { DetectorHolder } from '../../inference/inference-saga.module.js';
import { ANOMALY_DETECTOR } from '../../inference/window-scorer.js';
import { DeferredJsonBody } from '../../http/deferred-json-body.js';
import { ProblemError } from '../../http/problem.js';
import { metrics } from '../../observability/metrics.js';
import { checkSensorValues } from './detect-input.js';
import { DetectScoring } from './detect-scoring.js';
import { DetectQuery } from './detect.query.js';
import { parseDetectBody, type DetectResponse } from './detect.schema.js';

/**
 * One-off scoring. Stateless: the adaptive-threshold vote compares with the model's healthy baseline, not
 * with this equipment's history (the inference saga keeps per-equipment state).
 */
@QueryHandler(DetectQuery)
export class DetectHandler implements IQueryHandler<DetectQuery, DetectResponse> {
  constructor(
    @Inject(ANOMALY_DETECTOR) private readonly holder: DetectorHolder,
    private readonly scoring: DetectScoring,
  ) {}

  async execute(query: DetectQuery): Promise<DetectResponse> {
    let body = query.body;
    const detector = this.holder.scorer as AnomalyDetector | null;
    if (!detector) {
      // a malformed body is still a 400, as on every route, before the 503
      if (body instanceof DeferredJsonBody) parseDetectBody(body.parse());
      throw new ProblemError('unavailable', `no model is loaded: ${this.holder.error ?? 'unknown reason'}`);
    }
    if (body instanceof DeferredJsonBody) {
      // Fast path: a window the scoring worker parses, checks and scores; any other body comes back null.
      // timed when the worker answered (scored or refused the window), not when the body goes the full path
      const stop = metrics.detectDuration.startTimer({ mode: 'window' });
      const scored = await this.scoring.scoreJson(detector, body.bytes).catch((error: unknown) => {
        stop();
        rethrowWindowError(error);
      });
      if (scored) {
        stop();
        return toResponse(scored);
      }
      body = parseDetectBody(body.parse());
    }
    const errors = checkSensorValues(body, detector.sensors);
    if (errors.length) throw new ProblemError('validation', `${errors.length} sensor value(s) are not valid`, errors);

    const mode = body.samples ? 'window' : 'sample';
    const stop = metrics.detectDuration.startTimer({ mode });
    let result: DetectionResult;
    try {
      result = body.samples
        ? await this.scoring.scoreWindow(detector, body.samples as { ts: string; values: Record<string, number> }[])
        : (await detector.scoreSample(body.values as Record<string, number>)).result;
    } catch (error) {
      rethrowWindowError(error);
    } finally {
      stop();
    }
    return toResponse(result);
  }
}

/** A window that cannot be assembled is the client's: 400 naming `samples`. */
function rethrowWindowError(error: unknown): never {
  if (error instanceof WindowError) throw new ProblemError('validation', error.message, [{ field: 'samples', message: error.message }]);
  throw error;
}

export function toResponse(r: DetectionResult): DetectResponse {
  return {
    is_anomaly: r.isAnomaly,
    score: r.score,
    affected_component: r.affectedComponent,
    confidence: r.confidence,
    model_version: r.modelVersion,
    severity: r.severity,
    mode: r.mode,
    components: r.components,
    votes: r.votes,
    operating_conditions: toOperatingConditionsItem(r.operatingConditions),
  };
}
