/**
 * Turning timestamped samples into the fixed 60 x 17 window the models expect.
 *
 * Rules (documented in docs/models.md):
 * - A window is one duty cycle: `dutyCycleSeconds` one-second slots starting at `start`. Default start:
 *   the epoch-aligned duty-cycle boundary floor(earliest / cycle) * cycle when all samples fit in that
 *   cycle (the saga's windows are epoch-aligned, so leading missing seconds stay missing), otherwise
 *   the earliest sample's ts. A sample goes to slot round((ts - start) / 1 s); samples outside the
 *   window are an error, a later sample for the same slot replaces an earlier one.
 * - Per sensor, at least `minPresent` slots (default 90 % of the duty cycle = 54 of 60) must carry a
 *   finite value; missing slots are filled by linear interpolation between the nearest present
 *   neighbours, and by the nearest present value before the first / after the last one.
 * - Fewer present slots, an unknown timestamp or a non-finite value: WindowError with the reason.
 */
export class WindowError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WindowError';
  }
}

export interface TimedValues {
  ts: string;
  values: Record<string, number>;
}

export interface WindowOptions {
  sensors: readonly string[];
  seconds: number;
  minPresent?: number;
  start?: string | number;
}

export function defaultMinPresent(seconds: number): number {
  return Math.ceil(seconds * 0.9);
}

function defaultStart(times: number[], seconds: number): number {
  let min = Infinity;
  let max = -Infinity;
  for (const t of times) {
    if (t < min) min = t;
    if (t > max) max = t;
  }
  const cycle = seconds * 1000;
  const aligned = Math.floor(min / cycle) * cycle;
  return Math.round((max - aligned) / 1000) < seconds ? aligned : min;
}

/** Returns one Float64Array column per sensor, each `seconds` long, gaps filled. */
export function assembleWindow(samples: readonly TimedValues[], opts: WindowOptions): Float64Array[] {
  const { sensors } = opts;
  const place = (v: unknown, i: number, j: number, col: Float64Array, slot: number) => {
    if (v === undefined || v === null) return;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new WindowError(`sample ${i}: ${sensors[j]} is not a finite number`);
    col[slot] = v;
  };
  return assemble(samples.length, (i) => samples[i].ts, opts, (i, cols, slot) => {
    const values = samples[i].values;
    // Keys in sensor order (the usual case) are read while enumerating, not looked up one by one.
    let j = 0;
    for (const key in values) {
      if (j === sensors.length || key !== sensors[j]) break;
      place(values[key], i, j, cols[j], slot);
      j++;
    }
    if (j === sensors.length) return;
    for (j = 0; j < sensors.length; j++) place(values[sensors[j]], i, j, cols[j], slot);
  });
}

/**
 * The same window from packed samples: `ts[i]` and sample i's value of sensor j at values[i * sensors + j]
 * (NaN = not sent; callers have checked the rest are finite). What a scoring worker receives: no sample
 * objects to rebuild, same slots, fill and errors as assembleWindow.
 */
export function assemblePackedWindow(ts: readonly string[], values: Float64Array, opts: WindowOptions): Float64Array[] {
  const S = opts.sensors.length;
  if (values.length !== ts.length * S) throw new WindowError(`${values.length} values for ${ts.length} samples of ${S} sensors`);
  return assemble(ts.length, (i) => ts[i], opts, (i, cols, slot) => {
    for (let j = 0; j < S; j++) {
      const v = values[i * S + j];
      if (!Number.isNaN(v)) cols[j][slot] = v;
    }
  });
}

/** Slots, ordering and gap filling shared by both input forms; `place` writes sample i's values into a slot. */
function assemble(
  n: number,
  tsOf: (i: number) => string,
  opts: WindowOptions,
  place: (i: number, cols: Float64Array[], slot: number) => void,
): Float64Array[] {
  const { sensors, seconds } = opts;
  const minPresent = opts.minPresent ?? defaultMinPresent(seconds);
  if (n === 0) throw new WindowError('window has no samples');
  const times: number[] = [];
  let ascending = true;
  for (let i = 0; i < n; i++) {
    const t = Date.parse(tsOf(i));
    if (!Number.isFinite(t)) throw new WindowError(`sample ${i}: invalid timestamp '${tsOf(i)}'`);
    if (i > 0 && t < times[i - 1]) ascending = false;
    times.push(t);
  }
  const start = opts.start === undefined ? defaultStart(times, seconds) : typeof opts.start === 'number' ? opts.start : Date.parse(opts.start);
  if (!Number.isFinite(start)) throw new WindowError(`invalid window start '${opts.start}'`);
  const cols = sensors.map(() => new Float64Array(seconds).fill(NaN));
  // Samples in time order (ties in arrival order); usually they already are, and sorting is skipped.
  const order = ascending ? null : times.map((t, i) => [t, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]).map(([, i]) => i);
  for (let k = 0; k < n; k++) {
    const i = order ? order[k] : k;
    const slot = Math.round((times[i] - start) / 1000);
    if (slot < 0 || slot >= seconds)
      throw new WindowError(`sample ${i} at ${tsOf(i)} is outside the ${seconds}-s window starting ${new Date(start).toISOString()}`);
    place(i, cols, slot);
  }
  sensors.forEach((s, j) => {
    const col = cols[j];
    let count = 0;
    for (let k = 0; k < seconds; k++) if (!Number.isNaN(col[k])) count++;
    if (count < minPresent) throw new WindowError(`sensor ${s}: ${count} of ${seconds} seconds present, at least ${minPresent} needed`);
    if (count === seconds) return; // complete: nothing to fill
    const present: number[] = [];
    for (let k = 0; k < seconds; k++) if (!Number.isNaN(col[k])) present.push(k);
    for (let k = 0; k < present[0]; k++) col[k] = col[present[0]];
    for (let p = 0; p + 1 < present.length; p++) {
      const a = present[p];
      const b = present[p + 1];
      for (let k = a + 1; k < b; k++) col[k] = col[a] + ((col[b] - col[a]) * (k - a)) / (b - a);
    }
    const last = present[present.length - 1];
    for (let k = last + 1; k < seconds; k++) col[k] = col[last];
  });
  return cols;
}
