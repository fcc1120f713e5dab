import type { TimedSample } from '../../src/inference/window-assembler.js';
import type { WindowScore, WindowScorer } from '../../src/inference/window-scorer.js';

/**
 * Deterministic stand-in for the ensemble: a window is anomalous when sensor A's mean exceeds 100; the
 * adaptive state counts windows seen (so a replay with the wrong state would change the score).
 */
export class FakeScorer implements WindowScorer {
  readonly version = 'fake-1';
  readonly dutyCycleSeconds = 60;
  readonly sensors = [{ id: 'A' }, { id: 'B' }];
  calls = 0;
  /** Called before each window is scored (tests block or fail here). */
  beforeScore: (n: number) => Promise<void> = async () => undefined;
  async scoreWindow(samples: TimedSample[], state?: unknown): Promise<{ result: WindowScore; state: unknown }> {
    this.calls++;
    await this.beforeScore(this.calls);
    const seen = ((state as { seen?: number } | undefined)?.seen ?? 0) + 1;
    const mean = samples.reduce((a, s) => a + s.values.A!, 0) / samples.length;
    const anomaly = mean > 100;
    const c = (degraded: boolean) => ({ condition: degraded ? 3 : 100, degraded, probability: degraded ? 0.9 : 0.1 });
    return {
      result: {
        isAnomaly: anomaly,
        score: mean / 200 + seen / 1e6,
        affectedComponent: anomaly ? 'cooler' : null,
        confidence: 0.9,
        modelVersion: this.version,
        severity: anomaly ? 'critical' : 'none',
        components: { cooler: c(anomaly), valve: c(false), pump: c(false), accumulator: c(false) },
        votes: { fake: { weight: 1, anomaly, score: mean } },
      },
      state: { seen },
    };
  }
}

