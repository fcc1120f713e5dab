/** In-process latency of AnomalyDetector.scoreWindow / scoreSample (one call = one window, all models). */
import { AnomalyDetector, type Sample } from '../anomaly-detector.js';
import { SENSORS } from '../features/hydraulic-17.js';

export interface LatencyReport {
  calls: number;
  window: { p50: number; p99: number; max: number; mean: number };
  /** process CPU time per scoreWindow call: insensitive to preemption by other processes */
  windowCpu: { p50: number; p99: number; max: number; mean: number };
  sample: { p50: number; p99: number; max: number; mean: number };
  unit: 'ms';
}

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { p50: q(0.5), p99: q(0.99), max: s[s.length - 1], mean: xs.reduce((a, b) => a + b, 0) / xs.length };
}

/** windows: sensor columns (SENSORS order, 60 values each); the calls cycle through them. */
export async function measureLatency(det: AnomalyDetector, windows: Float64Array[][], calls: number): Promise<LatencyReport> {
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  const asSamples = (cols: Float64Array[]): Sample[] =>
    Array.from({ length: 60 }, (_, s) => ({ ts: new Date(t0 + s * 1000).toISOString(), values: Object.fromEntries(SENSORS.map((id, j) => [id, cols[j][s]])) }));
  const batches = windows.map(asSamples);
  let state;
  for (let i = 0; i < 200; i++) state = (await det.scoreWindow(batches[i % batches.length], state)).state; // warm-up
  const tw: number[] = [];
  const cw: number[] = [];
  for (let i = 0; i < calls; i++) {
    const c = process.cpuUsage();
    const t = performance.now();
    state = (await det.scoreWindow(batches[i % batches.length], state)).state;
    tw.push(performance.now() - t);
    const d = process.cpuUsage(c);
    cw.push((d.user + d.system) / 1000);
  }
  const ts: number[] = [];
  let sstate;
  for (let i = 0; i < calls + 200; i++) {
    const b = batches[i % batches.length];
    const t = performance.now();
    sstate = (await det.scoreSample(b[i % 60].values, sstate)).state;
    if (i >= 200) ts.push(performance.now() - t);
  }
  return { calls, window: stats(tw), windowCpu: stats(cw), sample: stats(ts), unit: 'ms' };
}
