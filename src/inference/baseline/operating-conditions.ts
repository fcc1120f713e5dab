/**
 * Operating conditions of a window, and how well a model version's training data covers them.
 *
 * Regime: the nearest of the version's regime centres in a few operating features (standardised by each
 * regime's spread). On the hydraulic rig the regimes are the cooler settings (cooling efficiency and power
 * CE, CP tell them apart); a plant's own regimes are what its healthy baselines are kept per.
 *
 * Coverage: the distance from the window's operating features (standardised by the training spread) to the
 * nearest training window, turned into a conformal p-value: the share of training windows whose own
 * nearest-other-training-window distance is at least as large. 1 = as typical as training gets, 0 = farther
 * out than any training window. Pure functions: no Nest, no database.
 */

/** what a verdict carries (the AnomalyDetected v2 / detect response field) */
export interface OperatingConditions {
  regime: string;
  coverage: number;
  hasBaseline: boolean;
  unfamiliar: boolean;
}

export interface RegimeSpec {
  id: string;
  center: number[];
  scale: number[];
}

export interface OperatingConditionsSpec {
  /** window feature names of the regime estimate, e.g. ['CE.mean', 'CP.mean'] */
  regimeFeatures: string[];
  regimes: RegimeSpec[];
  /** window feature names of the coverage score */
  coverageFeatures: string[];
  mean: number[];
  std: number[];
  /** training windows, standardised, row-major [n][coverageFeatures.length] */
  points: number[][];
  /** sorted ascending: each training window's distance to its nearest other training window */
  selfDistances: number[];
  /** a window is unfamiliar below this coverage (and without a healthy baseline of its regime) */
  minCoverage: number;
}

export function estimateRegime(spec: Pick<OperatingConditionsSpec, 'regimes'>, x: ArrayLike<number>): string {
  let best = spec.regimes[0].id, bestD = Infinity;
  for (const r of spec.regimes) {
    let d = 0;
    for (let j = 0; j < r.center.length; j++) {
      const z = (x[j] - r.center[j]) / r.scale[j];
      d += z * z;
    }
    if (d < bestD) { bestD = d; best = r.id; }
  }
  return best;
}

export function standardise(mean: ArrayLike<number>, std: ArrayLike<number>, x: ArrayLike<number>): Float64Array {
  return Float64Array.from({ length: mean.length }, (_, j) => (x[j] - mean[j]) / (std[j] > 1e-12 ? std[j] : 1));
}

export function nearestDistance(points: ReadonlyArray<ArrayLike<number>>, z: ArrayLike<number>, skip = -1): number {
  let best = Infinity;
  for (let i = 0; i < points.length; i++) {
    if (i === skip) continue;
    const p = points[i];
    let d = 0;
    for (let j = 0; j < z.length; j++) { const e = p[j] - z[j]; d += e * e; if (d >= best) break; }
    if (d < best) best = d;
  }
  return Math.sqrt(best);
}

/** share of sorted self-distances >= d (conformal p-value; (k + 1) / (n + 1) so that it is never 0) */
export function coverageOf(selfDistances: ReadonlyArray<number>, d: number): number {
  let lo = 0, hi = selfDistances.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (selfDistances[mid] < d) lo = mid + 1; else hi = mid; }
  return (selfDistances.length - lo + 1) / (selfDistances.length + 1);
}

/** self-distances of a set of standardised points, sorted ascending */
export function selfDistances(points: ReadonlyArray<ArrayLike<number>>): number[] {
  return points.map((p, i) => nearestDistance(points, p, i)).sort((a, b) => a - b);
}

/** the spec's points sorted by their first coordinate, flat (built once per spec) */
const sortedPoints = new WeakMap<OperatingConditionsSpec, { first: Float64Array; flat: Float64Array; dims: number }>();

function sortedOf(spec: OperatingConditionsSpec) {
  let s = sortedPoints.get(spec);
  if (!s) {
    const dims = spec.coverageFeatures.length;
    const order = spec.points.map((_, i) => i).sort((a, b) => spec.points[a][0] - spec.points[b][0]);
    const flat = new Float64Array(order.length * dims);
    order.forEach((i, k) => flat.set(spec.points[i], k * dims));
    s = { first: Float64Array.from(order, (i) => spec.points[i][0]), flat, dims };
    sortedPoints.set(spec, s);
  }
  return s;
}

/**
 * The same nearest distance as nearestDistance, searched outwards from the query's place in the first
 * coordinate and stopped once that coordinate alone is farther than the best: a detect request pays a few
 * dozen point distances instead of all 1,655 (spec test: equal to the full scan).
 */
export function nearestDistanceSorted(spec: OperatingConditionsSpec, z: ArrayLike<number>): number {
  const { first, flat, dims } = sortedOf(spec);
  let lo = 0, hi = first.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (first[mid] < z[0]) lo = mid + 1; else hi = mid; }
  let best = Infinity;
  const dist = (k: number) => {
    let d = 0;
    for (let j = 0, o = k * dims; j < dims; j++) { const e = flat[o + j] - z[j]; d += e * e; if (d >= best) break; }
    if (d < best) best = d;
  };
  for (let up = lo, down = lo - 1; up < first.length || down >= 0; ) {
    const du = up < first.length ? (first[up] - z[0]) ** 2 : Infinity;
    const dd = down >= 0 ? (z[0] - first[down]) ** 2 : Infinity;
    if (Math.min(du, dd) >= best) break;
    if (du <= dd) dist(up++);
    else dist(down--);
  }
  return Math.sqrt(best);
}

export function coverage(spec: OperatingConditionsSpec, x: ArrayLike<number>): number {
  return coverageOf(spec.selfDistances, nearestDistanceSorted(spec, standardise(spec.mean, spec.std, x)));
}
