/**
 * Feature extraction for profile `hydraulic-17`: a TypeScript port of models/train/features.py.
 * The two must stay identical (feature order and formulas); models/test-vectors holds the parity
 * vectors and the registry refuses a manifest whose feature list differs from these names.
 * Pure functions, float64 arithmetic; the models receive the features as float32.
 */
export const SENSORS = [
  'PS1', 'PS2', 'PS3', 'PS4', 'PS5', 'PS6', 'EPS1', 'FS1', 'FS2',
  'TS1', 'TS2', 'TS3', 'TS4', 'VS1', 'CE', 'CP', 'SE',
] as const;
export type SensorId = (typeof SENSORS)[number];
export const SECONDS = 60;

const S: Record<string, number> = Object.fromEntries(SENSORS.map((s, i) => [s, i]));
/** Steady parts of the six load phases (half-open second ranges). */
export const PHASES: ReadonlyArray<readonly [number, number]> = [[1, 9], [11, 19], [21, 29], [31, 39], [41, 49], [51, 60]];
const TRANSITIONS = [0, 1, 2, 9, 10, 19, 20, 29, 30, 39, 40, 49, 50];
const TPAIRS = [9, 10, 19, 20, 29, 30, 39, 40, 49, 50];
const TSWITCH = [9, 19, 29, 39, 49];
const DYN = ['PS1', 'PS2', 'PS3', 'EPS1', 'FS1', 'SE'];
const FRAC = [[9, 0], [10, 0], [19, 1], [20, 1], [29, 2], [30, 2], [39, 3], [40, 3], [49, 4], [50, 4]] as const;
const EPS = 1e-9;

/** a / b, 0 where |b| < 1e-9 (as features.sdiv). */
export function sdiv(a: number, b: number): number {
  return Math.abs(b) >= EPS ? a / b : 0;
}

function mean(x: ArrayLike<number>, a = 0, b = x.length): number {
  let s = 0;
  for (let i = a; i < b; i++) s += x[i];
  return s / (b - a);
}

function std(x: ArrayLike<number>, a = 0, b = x.length): number {
  const m = mean(x, a, b);
  let s = 0;
  for (let i = a; i < b; i++) {
    const d = x[i] - m;
    s += d * d;
  }
  return Math.sqrt(s / (b - a));
}

/**
 * A window is one column per sensor (SENSORS order), SECONDS values each.
 * `out` receives the features in WINDOW_FEATURE_NAMES order; returns the number written.
 */
export type WindowColumns = ReadonlyArray<ArrayLike<number>>;

function windowFeaturesInto(cols: WindowColumns, out: Float64Array | null, names: string[] | null): number {
  let n = 0;
  // Names are built only when asked for (`names && ...` at each call): scoring needs none.
  const add = (v: number, name: string | null) => {
    if (out) out[n] = v;
    if (names) names.push(name!);
    n++;
  };
  const x = (s: string) => cols[S[s]];
  let tt = 0;
  for (let i = 0; i < SECONDS; i++) tt += (i - 29.5) * (i - 29.5);
  for (const s of SENSORS) {
    const v = x(s);
    const m = mean(v);
    add(m, names && `${s}.mean`);
    add(std(v), names && `${s}.std`);
    let mn = Infinity;
    let mx = -Infinity;
    let cov = 0;
    for (let i = 0; i < SECONDS; i++) {
      if (v[i] < mn) mn = v[i];
      if (v[i] > mx) mx = v[i];
      cov += (v[i] - m) * (i - 29.5);
    }
    add(mn, names && `${s}.min`);
    add(mx, names && `${s}.max`);
    add(cov / tt, names && `${s}.slope`);
    add(v[59] - v[0], names && `${s}.delta`);
  }
  const pm: Record<string, number[]> = {};
  for (const s of SENSORS) {
    pm[s] = PHASES.map(([a, b]) => mean(x(s), a, b));
    pm[s].forEach((v, k) => add(v, names && `${s}.p${k}.mean`));
  }
  for (const s of DYN) PHASES.forEach(([a, b], k) => add(std(x(s), a, b), names && `${s}.p${k}.std`));
  for (const s of DYN) for (const sec of TRANSITIONS) add(x(s)[sec], names && `${s}.t${sec}`);
  for (const s of ['PS1', 'PS2', 'PS3', 'EPS1', 'FS1']) {
    const v = x(s);
    for (const [sec, k] of FRAC) add(sdiv(v[sec] - pm[s][k], pm[s][k + 1] - pm[s][k]), names && `${s}.t${sec}.frac`);
    for (const sec of [0, 1, 2]) add(sdiv(v[sec], pm[s][0]), names && `${s}.t${sec}.rel`);
  }
  const pairs: Array<[string, number[]]> = [['FS1', TPAIRS], ['SE', TPAIRS], ['PS3', TPAIRS], ['PS1', TSWITCH], ['PS2', TSWITCH], ['EPS1', TSWITCH]];
  for (const [s, secs] of pairs) {
    const v = x(s);
    for (let i = 0; i < secs.length; i++)
      for (let j = i + 1; j < secs.length; j++) add(v[secs[i]] - v[secs[j]], names && `${s}.t${secs[i]}-t${secs[j]}`);
  }
  for (const s of ['PS1', 'PS2', 'EPS1', 'SE']) for (let k = 1; k < 6; k++) add(pm[s][k] - pm[s][k - 1], names && `${s}.step${k}`);
  for (let k = 0; k < 6; k++) add(pm.PS1[k] - pm.PS2[k], names && `PS1-PS2.p${k}`);
  for (let k = 1; k < 6; k++) {
    add(sdiv(pm.PS1[k], pm.PS2[k]), names && `PS1/PS2.p${k}`);
    add(sdiv(pm.EPS1[k], pm.FS1[k]), names && `EPS1/FS1.p${k}`);
    add(sdiv(pm.PS1[k] * pm.FS1[k], pm.EPS1[k]), names && `PS1*FS1/EPS1.p${k}`);
    add(sdiv(pm.PS3[k], pm.FS1[k]), names && `PS3/FS1.p${k}`);
  }
  const mu = (s: string) => mean(x(s));
  add(sdiv(mu('FS1'), mu('FS2')), 'FS1/FS2');
  add(sdiv(mu('CE'), mu('CP')), 'CE/CP');
  add(sdiv(mu('EPS1'), mu('PS1')), 'EPS1/PS1');
  for (const [a, b] of [['TS1', 'TS2'], ['TS1', 'TS3'], ['TS1', 'TS4'], ['TS2', 'TS3'], ['TS3', 'TS4'], ['PS5', 'PS6']])
    add(mu(a) - mu(b), names && `${a}-${b}`);
  add(sdiv(mu('PS5'), mu('TS1')), 'PS5/TS1');
  add(sdiv(mu('FS2'), mu('TS1')), 'FS2/TS1');
  return n;
}

function namesOf(): string[] {
  const names: string[] = [];
  const zero = SENSORS.map(() => new Float64Array(SECONDS));
  windowFeaturesInto(zero, null, names);
  return names;
}

export const WINDOW_FEATURE_NAMES: readonly string[] = Object.freeze(namesOf());

/** Window features of one 60 x 17 window given as sensor columns. */
export function windowFeatures(cols: WindowColumns): Float64Array {
  if (cols.length !== SENSORS.length) throw new Error(`window needs ${SENSORS.length} sensor columns, got ${cols.length}`);
  for (const c of cols) if (c.length !== SECONDS) throw new Error(`window columns need ${SECONDS} values, got ${c.length}`);
  const out = new Float64Array(WINDOW_FEATURE_NAMES.length);
  windowFeaturesInto(cols, out, null);
  return out;
}

const SAMPLE_EXTRA: ReadonlyArray<[string, (g: (s: string) => number) => number]> = [
  ['PS1-PS2', (g) => g('PS1') - g('PS2')],
  ['PS1/PS2', (g) => sdiv(g('PS1'), g('PS2'))],
  ['EPS1/FS1', (g) => sdiv(g('EPS1'), g('FS1'))],
  ['PS1*FS1/EPS1', (g) => sdiv(g('PS1') * g('FS1'), g('EPS1'))],
  ['PS3/FS1', (g) => sdiv(g('PS3'), g('FS1'))],
  ['FS1/FS2', (g) => sdiv(g('FS1'), g('FS2'))],
  ['CE/CP', (g) => sdiv(g('CE'), g('CP'))],
  ['EPS1/PS1', (g) => sdiv(g('EPS1'), g('PS1'))],
  ['TS1-TS2', (g) => g('TS1') - g('TS2')],
  ['TS1-TS3', (g) => g('TS1') - g('TS3')],
  ['TS1-TS4', (g) => g('TS1') - g('TS4')],
  ['PS5-PS6', (g) => g('PS5') - g('PS6')],
  ['PS5/TS1', (g) => sdiv(g('PS5'), g('TS1'))],
  ['FS2/TS1', (g) => sdiv(g('FS2'), g('TS1'))],
];

export const SAMPLE_FEATURE_NAMES: readonly string[] = Object.freeze([...SENSORS, ...SAMPLE_EXTRA.map(([n]) => n)]);

/** Sample features of one 1-Hz row (17 values in SENSORS order). */
export function sampleFeatures(row: ArrayLike<number>): Float64Array {
  if (row.length !== SENSORS.length) throw new Error(`a sample needs ${SENSORS.length} values, got ${row.length}`);
  const out = new Float64Array(SAMPLE_FEATURE_NAMES.length);
  for (let i = 0; i < SENSORS.length; i++) out[i] = row[i];
  const g = (s: string) => row[S[s]];
  SAMPLE_EXTRA.forEach(([, f], k) => (out[SENSORS.length + k] = f(g)));
  return out;
}
