/**
 * UCI hydraulic cycles (one file per sensor, one row per 60-s cycle, 60 values at 1 Hz) as ReadingsIngested
 * events, for the replay benchmark and the re-projection tests. Cycle i starts at `start + i * 60 s`.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NewEvent } from '../../src/event-store/event-store.js';
import { newEvent } from '../../src/events/event-registry.js';
import { MAX_SAMPLES_PER_EVENT, READINGS_INGESTED } from '../../src/events/readings-ingested.event.js';
import { SENSORS } from '../../src/inference/features/hydraulic-17.js';

export function readCycles(dir: string, maxCycles = Infinity): number[][][] {
  const columns = SENSORS.map((s) =>
    readFileSync(join(dir, `${s}.txt`), 'utf8')
      .trim()
      .split(/\r?\n/)
      .slice(0, maxCycles)
      .map((line) => line.trim().split(/\s+/).map(Number)),
  );
  const cycles = columns[0]!.length;
  // cycles x seconds x sensors
  return Array.from({ length: cycles }, (_, c) => Array.from({ length: columns[0]![c]!.length }, (_, s) => columns.map((col) => col[c]![s]!)));
}

/** One ReadingsIngested per MAX_SAMPLES_PER_EVENT samples, in time order. */
export function cycleEvents(
  cycles: number[][][],
  opts: { systemId: string; equipmentId: string; start: number; repeat?: number },
): NewEvent[] {
  const samples: { ts: string; values: Record<string, number> }[] = [];
  const repeat = opts.repeat ?? 1;
  for (let r = 0; r < repeat; r++) {
    cycles.forEach((cycle, c) => {
      const cycleStart = opts.start + (r * cycles.length + c) * 60_000;
      cycle.forEach((row, s) => {
        samples.push({ ts: new Date(cycleStart + s * 1000).toISOString(), values: Object.fromEntries(SENSORS.map((id, k) => [id, row[k]!])) });
      });
    });
  }
  const events: NewEvent[] = [];
  const batchId = randomUUID();
  for (let i = 0, chunk = 0; i < samples.length; i += MAX_SAMPLES_PER_EVENT, chunk++) {
    events.push(
      newEvent(
        READINGS_INGESTED,
        randomUUID(),
        { batchId, systemId: opts.systemId, equipmentId: opts.equipmentId, source: 'json', chunk, samples: samples.slice(i, i + MAX_SAMPLES_PER_EVENT), units: {} },
        { correlationId: batchId, actor: 'bench' },
      ),
    );
  }
  return events;
}
