import type { FieldError } from '../../http/problem.js';
import type { DetectBody } from './detect.schema.js';

export interface SensorRange {
  id: string;
  unit: string;
  min: number;
  max: number;
}

const inRange = (v: unknown, s: SensorRange) => typeof v === 'number' && Number.isFinite(v) && v >= s.min && v <= s.max;

/**
 * True when `values` holds exactly the profile's sensors, each a finite number in range. Builds no messages.
 * Keys in profile order (what clients and the bench send) are compared by position while enumerating;
 * any other order takes the lookup per sensor.
 */
function valuesAreValid(values: Record<string, unknown>, sensors: readonly SensorRange[]): boolean {
  let i = 0;
  let inOrder = true;
  for (const key in values) {
    const s = sensors[i];
    // an inherited key counts as present here just as `values[s.id]` in the detailed check below
    if (s === undefined || key !== s.id) {
      inOrder = false;
      break;
    }
    if (!inRange(values[key], s)) return false;
    i++;
  }
  if (inOrder) return i === sensors.length;
  for (const s of sensors) if (!Object.hasOwn(values, s.id) || !inRange(values[s.id], s)) return false;
  // every sensor is an own key, so any further key is an unknown one
  return Object.keys(values).length === sensors.length;
}

/**
 * Checks sensor values against the model's profile: every sensor present, none unknown, each a finite
 * number inside the plausible range. Returns one error per offending field (empty when valid).
 * Messages are built only for a sample that fails the quick check (a valid window used to build 1,020 field names).
 */
export function checkSensorValues(body: DetectBody, sensors: readonly SensorRange[]): FieldError[] {
  const errors: FieldError[] = [];
  let known: Set<string> | undefined;
  const check = (values: Record<string, unknown>, sample?: number) => {
    if (valuesAreValid(values, sensors)) return;
    const prefix = sample === undefined ? 'values' : `samples[${sample}].values`;
    for (const s of sensors) {
      const v = values[s.id];
      const field = `${prefix}.${s.id}`;
      if (v === undefined) errors.push({ field, message: 'is required' });
      else if (typeof v !== 'number' || !Number.isFinite(v)) errors.push({ field, message: 'must be a finite number' });
      else if (v < s.min || v > s.max) errors.push({ field, message: `must be between ${s.min} and ${s.max} ${s.unit}` });
    }
    known ??= new Set(sensors.map((s) => s.id));
    for (const key of Object.keys(values)) if (!known.has(key)) errors.push({ field: `${prefix}.${key}`, message: 'is not a sensor of this profile' });
  };
  if (body.values) check(body.values);
  const samples = body.samples;
  if (samples) for (let i = 0; i < samples.length; i++) check(samples[i]!.values, i);
  return errors;
}
