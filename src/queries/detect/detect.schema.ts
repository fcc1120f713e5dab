import { z } from 'zod';
import { componentNames, componentResultSchema, severities } from '../../events/anomaly-detected.event.js';

const identifier = z.string().min(1).max(128).regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/);
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
      .array(z.strictObject({ ts: z.iso.datetime({ offset: true }), values: sensorValues }))
      .min(1)
      .max(3600)
      .optional()
      .meta({ description: 'A window, e.g. one full 60-s duty cycle at 1 Hz (window models)' }),
  })
  .refine((b) => (b.values === undefined) !== (b.samples === undefined), {
    message: 'send exactly one of `values` (one sample) or `samples` (a window)',
    path: ['values'],
  })
  .meta({ id: 'DetectRequest' });

export type DetectBody = z.infer<typeof detectBody>;

export const detectResponse = z
  .object({
    is_anomaly: z.boolean(),
    score: z.number(),
    affected_component: z.enum(componentNames).nullable(),
    confidence: z.number(),
    model_version: z.string(),
    severity: z.enum(severities),
    mode: z.enum(['window', 'sample']),
    components: z.record(z.enum(componentNames), componentResultSchema),
    votes: z.record(z.string(), z.object({ weight: z.number(), anomaly: z.boolean(), score: z.number() })),
  })
  .meta({ id: 'DetectResult' });

export type DetectResponse = z.infer<typeof detectResponse>;
