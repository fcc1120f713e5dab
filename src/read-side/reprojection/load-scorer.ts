import type { TimedSample } from '../../inference/window-assembler.js';
import type { WindowScore } from '../../inference/window-scorer.js';
import type { ReprojectionScorer } from './reproject.js';

/** The inference engineer's detector as far as re-projection uses it (src/inference/anomaly-detector.ts). */
type DetectorLike = Omit<ReprojectionScorer, 'scoreWindows' | 'close'> & {
  close?(): Promise<void>;
  scoreWindows?(batch: TimedSample[][], state?: unknown): Promise<unknown>;
};

/**
 * Loads a version from the model registry (models/manifest.json), active or not. Imported lazily so commands that
 * do not score never load onnxruntime.
 */
export async function loadScorer(modelsDir: string, version?: string): Promise<ReprojectionScorer> {
  const { AnomalyDetector } = await import('../../inference/anomaly-detector.js');
  const detector = await AnomalyDetector.load({ modelsDir, version });
  return adaptDetector(detector as unknown as DetectorLike);
}

/** Normalises `scoreWindows` results to `{ results, state }` (see ReprojectionScorer). */
export function adaptDetector(detector: DetectorLike): ReprojectionScorer {
  const batched = detector.scoreWindows?.bind(detector);
  return {
    get version() {
      return detector.version;
    },
    get dutyCycleSeconds() {
      return detector.dutyCycleSeconds;
    },
    get sensors() {
      return detector.sensors;
    },
    scoreWindow: (samples, state) => detector.scoreWindow(samples, state),
    close: async () => detector.close?.(),
    ...(batched
      ? {
          async scoreWindows(batch: TimedSample[][], state?: unknown) {
            const out = (await batched(batch, state)) as
              | { results: WindowScore[]; state: unknown }
              | (WindowScore | { result: WindowScore; state: unknown })[];
            if (!Array.isArray(out)) return out;
            const results = out.map((r) => ('result' in r ? r.result : r));
            const last = out[out.length - 1];
            return { results, state: last && 'state' in last ? last.state : state };
          },
        }
      : {}),
  };
}
