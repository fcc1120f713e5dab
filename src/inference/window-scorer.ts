import type { AnomalyDetectedData } from '../events/anomaly-detected.event.js';
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
}

export interface WindowScorer {
  readonly version: string;
  readonly dutyCycleSeconds: number;
  readonly sensors: readonly { id: string }[];
  /** `state` is the adaptive-threshold state of one equipment; the returned state replaces it. */
  scoreWindow(samples: TimedSample[], state?: unknown): Promise<{ result: WindowScore; state: unknown }>;
}

/** Nest token of the loaded ensemble (null when no model could be loaded). */
export const ANOMALY_DETECTOR = Symbol('ANOMALY_DETECTOR');

/** Present seconds a window that never completed needs to be scored (90 % of the duty cycle). */
export function minSamplesFor(dutyCycleSeconds: number): number {
  return Math.ceil(dutyCycleSeconds * 0.9);
}
