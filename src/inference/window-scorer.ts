import type { AnomalyDetectedData } from '../events/anomaly-detected.event.js';
import type { HealthyReference } from './baseline/healthy-baseline.js';
import type { TimedSample } from './window-assembler.js';

/** What the saga and analyses need from the ensemble; `AnomalyDetector` (src/inference/anomaly-detector.ts) fits it. */
export interface WindowScore {
  isAnomaly: boolean;
  score: number;
  affectedComponent: AnomalyDetectedData['affectedComponent'];
  confidence: number;
  modelVersion: string;
  severity: AnomalyDetectedData['severity'];
  components: AnomalyDetectedData['components'];
  votes: AnomalyDetectedData['votes'];
  /** absent for scorers without a coverage model (recorded as null) */
  operatingConditions?: AnomalyDetectedData['operatingConditions'];
  /** a healthy reference this window completed (recorded as BaselineEstablished) */
  baselineEstablished?: HealthyReference;
}

export interface WindowScorer {
  readonly version: string;
  /** Equipment profile (e.g. hydraulic-17); promotions of another profile's models are ignored. */
  readonly profile?: string;
  readonly dutyCycleSeconds: number;
  readonly sensors: readonly { id: string }[];
  /** `state` is the adaptive-threshold state of one equipment; the returned state replaces it. */
  scoreWindow(samples: TimedSample[], state?: unknown): Promise<{ result: WindowScore; state: unknown }>;
  close?(): Promise<void>;
}

/** Loads another version of the same profile's models (the saga follows ModelVersionPromoted). */
export type ScorerLoader = (version: string) => Promise<WindowScorer>;

/** Nest token of the loaded ensemble (null when no model could be loaded). */
export const ANOMALY_DETECTOR = Symbol('ANOMALY_DETECTOR');

/** Present seconds a window that never completed needs to be scored (90 % of the duty cycle). */
export function minSamplesFor(dutyCycleSeconds: number): number {
  return Math.ceil(dutyCycleSeconds * 0.9);
}
