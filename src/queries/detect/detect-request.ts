import { checkSensorValues, type SensorRange } from './detect-input.js';
import { isWellFormedDetectBody } from './detect.schema.js';
import { scanWindowRequest } from './scan-window-request.js';

/** A window's samples packed for a scoring worker: ts[i], and sample i's value of sensor j at values[i * sensors + j]. */
export interface PackedWindow {
  ts: string[];
  values: Float64Array;
}

/**
 * Packs samples in `sensorIds` order, or returns null when a sample lacks a sensor or holds something other
 * than a finite number (only numbers travel to a worker).
 */
export function packSamples(samples: readonly { ts: string; values: Record<string, unknown> }[], sensorIds: readonly string[]): PackedWindow | null {
  const S = sensorIds.length;
  const values = new Float64Array(samples.length * S);
  const ts: string[] = [];
  for (let i = 0; i < samples.length; i++) {
    const row = samples[i]!.values;
    // keys in sensor order (the usual case) are read while enumerating, else looked up one by one
    let j = 0;
    for (const key in row) {
      if (j === S || key !== sensorIds[j]) break;
      const v = row[key];
      if (typeof v !== 'number' || !Number.isFinite(v)) return null;
      values[i * S + j++] = v;
    }
    if (j < S)
      for (j = 0; j < S; j++) {
        const v = row[sensorIds[j]!];
        if (typeof v !== 'number' || !Number.isFinite(v)) return null;
        values[i * S + j] = v;
      }
    ts.push(samples[i]!.ts);
  }
  return { ts, values };
}

/**
 * The fast path of a detect request, from its JSON text: a window body that detect accepts as it is (well
 * formed, every sensor present, known, finite and in range), packed. Anything else — not JSON, a single
 * sample, any invalid field — is null, and the request takes the full path (Fastify's JSON parser, zod,
 * the sensor check), which names each bad field. So both paths accept exactly the same bodies.
 *
 * Plain JSON.parse is enough here: the only bodies it lets through have no key but the four body fields,
 * `ts`/`values` per sample and the profile's sensor ids, so no `__proto__` or `constructor` key can pass.
 */
export function packWindowRequest(json: string, sensors: readonly SensorRange[]): PackedWindow | null {
  let body: unknown;
  try {
    body = JSON.parse(json);
  } catch {
    return null;
  }
  if (!isWellFormedDetectBody(body) || !body.samples || checkSensorValues(body, sensors).length) return null;
  return packSamples(body.samples, sensors.map((s) => s.id));
}

/**
 * packWindowRequest, sped up: the plain form clients send is read by scanWindowRequest without building the
 * JSON object tree; whatever it does not read goes through packWindowRequest. Same answers either way.
 */
export function packWindowJson(json: string, sensors: readonly SensorRange[]): PackedWindow | null {
  return scanWindowRequest(json, sensors) ?? packWindowRequest(json, sensors);
}
