import { readingRowSchema, type ReadingRow } from './reading-row.schema.js';

const shape = readingRowSchema.shape;

/**
 * The fast path of row validation for one batch. A long-format batch repeats the same few identifiers and
 * each timestamp once per sensor, so the schema's own checks of a string are run once per batch and
 * remembered. `accept` returns the row when it is a plain well-formed reading (the five required fields,
 * no unit or meta), else undefined and the caller runs the full schema, which also words the errors.
 * It never accepts a row the schema rejects: every check it skips is the schema's check of the same value.
 */
export class RowPrecheck {
  private readonly identifiers = new Map<string, boolean>();
  private readonly timestamps = new Map<string, boolean>();

  accept(input: unknown): ReadingRow | undefined {
    if (input === null || typeof input !== 'object' || Array.isArray(input)) return undefined;
    const keys = Object.keys(input);
    if (keys.length !== 5) return undefined;
    for (const key of keys) {
      if (key !== 'system_id' && key !== 'equipment_id' && key !== 'sensor_id' && key !== 'ts' && key !== 'v') return undefined;
    }
    const row = input as Record<string, unknown>;
    const { system_id, equipment_id, sensor_id, ts, v } = row;
    if (typeof v !== 'number' || !Number.isFinite(v)) return undefined;
    if (!this.identifier(system_id) || !this.identifier(equipment_id) || !this.identifier(sensor_id)) return undefined;
    if (typeof ts !== 'string') return undefined;
    let ok = this.timestamps.get(ts);
    if (ok === undefined) this.timestamps.set(ts, (ok = shape.ts.safeParse(ts).success));
    if (!ok) return undefined;
    return { system_id: system_id as string, equipment_id: equipment_id as string, sensor_id: sensor_id as string, ts, v };
  }

  private identifier(value: unknown): boolean {
    if (typeof value !== 'string') return false;
    let ok = this.identifiers.get(value);
    if (ok === undefined) this.identifiers.set(value, (ok = shape.system_id.safeParse(value).success));
    return ok;
  }
}
