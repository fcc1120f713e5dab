import { z } from 'zod';
import { componentNames, componentResultSchema, operatingConditionsItem, severities } from '../../events/anomaly-detected.event.js';
import { parseRequest } from '../../http/parse-request.js';

const IDENTIFIER = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;
const identifier = z.string().min(1).max(128).regex(IDENTIFIER);
const timestamp = z.iso.datetime({ offset: true });
export const MAX_SAMPLES = 3600;
const sensorValues = z
  .record(z.string(), z.unknown())
  .meta({ description: 'One value per sensor of the profile (hydraulic-17: PS1…PS6, EPS1, FS1, FS2, TS1…TS4, VS1, CE, CP, SE)' });

/** The body's shape; sensor names, finiteness and plausible ranges are checked against the loaded model (detect-input.ts). */
export const detectBody = z
  .strictObject({
    system_id: identifier.optional(),
    equipment_id: identifier.optional(),
    values: sensorValues.optional().meta({ description: 'One sample (single-sample models)' }),
    samples: z
      .array(z.strictObject({ ts: timestamp, values: sensorValues }))
      .min(1)
      .max(MAX_SAMPLES)
      .optional()
      .meta({ description: 'A window, e.g. one full 60-s duty cycle at 1 Hz (window models)' }),
  })
  .refine((b) => (b.values === undefined) !== (b.samples === undefined), {
    message: 'send exactly one of `values` (one sample) or `samples` (a window)',
    path: ['values'],
  })
  .meta({ id: 'DetectRequest' });

export type DetectBody = z.infer<typeof detectBody>;

// The pattern zod itself tests for `ts` (a string format is exactly a regex test), so both paths agree.
const TIMESTAMP: RegExp = timestamp._zod.pattern;
export const isTimestamp = (s: string): boolean => {
  TIMESTAMP.lastIndex = 0;
  return TIMESTAMP.test(s);
};
const BODY_KEYS = new Set(['system_id', 'equipment_id', 'values', 'samples']);

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;
// An own `__proto__` key (possible from JSON.parse; Fastify rejects such bodies) would not survive zod's copy.
const isRecord = (v: unknown): v is Record<string, unknown> => isPlainObject(v) && !Object.hasOwn(v, '__proto__');
export const isIdentifier = (v: unknown): boolean => typeof v === 'string' && v.length >= 1 && v.length <= 128 && IDENTIFIER.test(v);

/**
 * True only for bodies `detectBody` accepts unchanged. A window carries 1,020 values: zod would copy every
 * sample and record (a third of a request's CPU before this check existed), while this is one pass without
 * allocations. Anything it does not recognise goes to zod, which names the bad fields.
 */
export function isWellFormedDetectBody(input: unknown): input is DetectBody {
  if (!isPlainObject(input)) return false;
  let n = 0;
  for (const key in input) {
    if (!BODY_KEYS.has(key) || input[key] === undefined) return false;
    n++;
  }
  if (n !== Object.keys(input).length) return false; // inherited enumerable keys: let zod decide
  if ('system_id' in input && !isIdentifier(input.system_id)) return false;
  if ('equipment_id' in input && !isIdentifier(input.equipment_id)) return false;
  const { values, samples } = input;
  if ((values === undefined) === (samples === undefined)) return false;
  if (values !== undefined) return isRecord(values);
  if (!Array.isArray(samples) || samples.length < 1 || samples.length > MAX_SAMPLES) return false;
  for (let i = 0; i < samples.length; i++) {
    const sample: unknown = samples[i];
    if (!isPlainObject(sample)) return false;
    let keys = 0;
    for (const key in sample) {
      if (key !== 'ts' && key !== 'values') return false;
      keys++;
    }
    if (keys !== 2 || typeof sample.ts !== 'string' || !isRecord(sample.values) || !isTimestamp(sample.ts)) return false;
  }
  return true;
}

/** The validated body: well-formed bodies as they are, anything else through zod (400 naming each field). */
export function parseDetectBody(input: unknown): DetectBody {
  return isWellFormedDetectBody(input) ? input : parseRequest(detectBody, input, 'body');
}

const componentResult = componentResultSchema.meta({ id: 'ComponentResult' });

/** Every component, spelled out (a record over an enum documents its keys as required but never defines them). */
const componentResults = z
  .object({ cooler: componentResult, valve: componentResult, pump: componentResult, accumulator: componentResult })
  .meta({ id: 'ComponentResults' });

export const detectResponse = z
  .object({
    is_anomaly: z.boolean(),
    score: z.number(),
    affected_component: z.enum(componentNames).nullable(),
    confidence: z.number(),
    model_version: z.string(),
    severity: z.enum(severities),
    mode: z.enum(['window', 'sample']),
    components: componentResults,
    votes: z.record(z.string(), z.object({ weight: z.number(), anomaly: z.boolean(), score: z.number() })),
    operating_conditions: operatingConditionsItem
      .nullable()
      .meta({ description: 'Window mode, model versions with a coverage model: regime, coverage of the operating conditions by the training data, unfamiliar flag (a detect request belongs to no equipment, so no baseline); else null' }),
  })
  .meta({ id: 'DetectResult' });

export type DetectResponse = z.infer<typeof detectResponse>;
