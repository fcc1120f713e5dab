import type { FieldError } from '../../http/problem.js';
import type { DetectBody } from './detect.schema.js';

export interface SensorRange {
  id: string;
  unit: string;
  min: number;
  max: number;
}

/**
 * Checks sensor values against the model's profile: every sensor present, none unknown, each a finite
 * number inside the plausible range. Returns one error per offending field (empty when valid).
 */
export function checkSensorValues(body: DetectBody, sensors: readonly SensorRange[]): FieldError[] {
  const errors: FieldError[] = [];
  const check = (values: Record<string, unknown>, prefix: string) => {
    for (const s of sensors) {
      const v = values[s.id];
      const field = `${prefix}.${s.id}`;
      if (v === undefined) errors.push({ field, message: 'is required' });
      else if (typeof v !== 'number' || !Number.isFinite(v)) errors.push({ field, message: 'must be a finite number' });
      else if (v < s.min || v > s.max) errors.push({ field, message: `must be between ${s.min} and ${s.max} ${s.unit}` });
    }
    const known = new Set(sensors.map((s) => s.id));
    for (const key of Object.keys(values)) if (!known.has(key)) errors.push({ field: `${prefix}.${key}`, message: 'is not a sensor of this profile' });
  };
  if (body.values) check(body.values, 'values');
  body.samples?.forEach((sample, i) => check(sample.values, `samples[${i}].values`));
  return errors;
}
