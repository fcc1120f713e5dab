import { createHash, randomUUID } from 'node:crypto';
import type { EventStore, NewEvent, Position } from '../../src/event-store/event-store.js';
import { ANOMALY_DETECTED, ANOMALY_FEEDBACK_RECORDED, componentNames, severities } from '../../src/events/anomaly-detected.event.js';
import { newEvent } from '../../src/events/event-registry.js';
import { MODEL_VERSION_PROMOTED } from '../../src/events/model-version-promoted.event.js';
import { READINGS_INGESTED } from '../../src/events/readings-ingested.event.js';
import { READINGS_QUARANTINED } from '../../src/events/readings-quarantined.event.js';

import { streams } from '../../src/events/streams.js';
/** SHA-256 of `{"v":"x"}`, the raw row of every quarantined row below (9 bytes). */
const RAW_SHA256 = createHash('sha256').update('{"v":"x"}').digest('hex');

/** Small deterministic PRNG so a failing run can be repeated. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export const SENSORS = ['PS1', 'PS2', 'TS1', 'FS1'];
const T0 = Date.parse('2026-03-01T00:00:00Z');

export function readingsEvent(systemId: string, equipmentId: string, startMs: number, seconds: number, random: () => number): NewEvent {
  const samples = Array.from({ length: seconds }, (_, i) => ({
    ts: new Date(startMs + i * 1000).toISOString(),
    values: Object.fromEntries(SENSORS.map((s) => [s, Math.round(random() * 1000) / 10])),
  }));
  return newEvent(
    READINGS_INGESTED,
    randomUUID(),
    { batchId: randomUUID(), systemId, equipmentId, source: 'json', chunk: 0, samples, units: { PS1: 'bar', PS2: 'bar', TS1: '°C', FS1: 'l/min' } },
    { correlationId: randomUUID(), actor: 'test' },
  );
}

export function anomalyEvent(
  systemId: string,
  equipmentId: string,
  windowStart: number,
  modelVersion: string,
  random: () => number,
  eventId: string = randomUUID(),
): NewEvent {
  const severity = severities[1 + Math.floor(random() * 4)]!;
  const component = random() < 0.15 ? null : componentNames[Math.floor(random() * 4)]!;
  const components = Object.fromEntries(
    componentNames.map((c) => [c, { condition: 100, degraded: c === component, probability: Math.round(random() * 100) / 100 }]),
  );
  return newEvent(
    ANOMALY_DETECTED,
    eventId,
    {
      systemId,
      equipmentId,
      window: { from: new Date(windowStart).toISOString(), to: new Date(windowStart + 60_000).toISOString() },
      score: Math.round(random() * 1000) / 1000,
      severity,
      affectedComponent: component,
      components,
      confidence: 0.8,
      modelVersion,
      votes: { rf: { weight: 1, anomaly: true, score: 0.9 } },
      sourceEventIds: [randomUUID()],
    },
    { correlationId: randomUUID(), actor: 'inference-saga', modelVersion },
  );
}

/**
 * A mixed workload: readings for 3 systems x 2 equipment (with overlapping re-sends), quarantined rows, anomalies
 * (some windows detected twice), feedback on some anomalies, and two model promotions.
 */
export async function mixedWorkload(store: EventStore, seed: number, rounds = 6): Promise<{ last: Position; anomalyIds: string[] }> {
  const random = rng(seed);
  const anomalyIds: string[] = [];
  let last: Position | undefined;
  const track = (p: Position) => (last = p);
  for (let r = 0; r < rounds; r++) {
    for (const system of ['rig-a', 'rig-b', 'rig-c']) {
      for (const eq of ['eq-1', 'eq-2']) {
        const start = T0 + r * 300_000 + Math.floor(random() * 3) * 60_000;
        track((await store.append(streams.readings(system), [readingsEvent(system, eq, start, 90, random), readingsEvent(system, eq, start + 30_000, 30, random)])).position);
        if (random() < 0.6) {
          const w = Math.floor(start / 60_000) * 60_000;
          const e = anomalyEvent(system, eq, w, r < 3 ? 'v1' : 'v2', random);
          anomalyIds.push(e.eventId);
          const again = random() < 0.3 ? [anomalyEvent(system, eq, w, r < 3 ? 'v1' : 'v2', random)] : [];
          track((await store.append(streams.anomalies(system), [e, ...again])).position);
        }
      }
    }
    track(
      (
        await store.append(streams.readings('rig-a'), [
          newEvent(
            READINGS_QUARANTINED,
            randomUUID(),
            { batchId: randomUUID(), systemId: 'rig-a', source: 'csv', rows: [{ row: r + 1, raw: { v: 'x' }, rawBytes: 9, rawSha256: RAW_SHA256, rawTruncated: false, errors: [{ field: 'v', message: 'not a number' }] }], errorCount: 1 },
            { correlationId: randomUUID() },
          ),
        ])
      ).position,
    );
    if (anomalyIds.length > 1 && random() < 0.7) {
      const id = anomalyIds[Math.floor(random() * anomalyIds.length)]!;
      const system = 'rig-a';
      track(
        (
          await store.append(streams.anomalies(system), [
            newEvent(ANOMALY_FEEDBACK_RECORDED, randomUUID(), { anomalyId: id, systemId: system, verdict: random() < 0.5 ? 'confirmed' : 'false_positive', actor: 'op' }, { correlationId: randomUUID() }),
          ])
        ).position,
      );
    }
    if (r === 1 || r === 4) {
      track(
        (
          await store.append(streams.models, [
            newEvent(MODEL_VERSION_PROMOTED, randomUUID(), { profile: 'hydraulic-17', modelVersion: r === 1 ? 'v1' : 'v2', previousVersion: r === 1 ? null : 'v1' }, { correlationId: randomUUID(), actor: 'ds' }),
          ])
        ).position,
      );
    }
  }
  return { last: last!, anomalyIds };
}

/**
 * Waits until `position` is visible to readers: the PostgreSQL event store shows only events below the oldest
 * transaction still running on the whole server (other test databases included).
 */
export async function waitVisible(store: EventStore, position: Position, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const visible = await store.readAll({ after: { commit: position.commit, prepare: position.prepare - 1 }, limit: 1 });
    if (visible.some((e) => e.position.prepare === position.prepare)) return;
    if (Date.now() > deadline) throw new Error(`event at ${JSON.stringify(position)} not visible after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
