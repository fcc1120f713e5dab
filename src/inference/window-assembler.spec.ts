import { describe, expect, it } from '@jest/globals';
import {
  addChunk,
  emptyEquipment,
  fillSeconds,
  flushAll,
  flushDue,
  windowStartOf,
  type EquipmentWindows,
  type TimedSample,
  type WindowOutcome,
  type WindowPolicy,
} from './window-assembler.js';

const policy: WindowPolicy = { windowMs: 60_000, sensors: ['A', 'B'], minSamples: 54, flushTimeoutMs: 120_000 };
const T0 = Date.parse('2026-01-01T10:00:00.000Z');

function samples(fromSecond: number, toSecond: number, at = T0, values = (s: number) => ({ A: s, B: -s })): TimedSample[] {
  const out: TimedSample[] = [];
  for (let s = fromSecond; s < toSecond; s++) out.push({ ts: new Date(at + s * 1000).toISOString(), values: values(s) });
  return out;
}

function chunk(id: number, list: TimedSample[], createdAt = T0 + 61_000) {
  return { eventId: `00000000-0000-4000-8000-${String(id).padStart(12, '0')}`, correlationId: `corr-${id}`, createdAt, samples: list };
}

function ready(outcomes: WindowOutcome[]) {
  return outcomes.filter((o) => o.kind === 'ready').map((o) => (o.kind === 'ready' ? o : never()));
}
function never(): never {
  throw new Error('unreachable');
}

describe('window assembly', () => {
  let state: EquipmentWindows;
  const given = () => (state = emptyEquipment('sys', 'eq'));

  it('windows are aligned to the minute', () => {
    expect(new Date(windowStartOf(Date.parse('2026-01-01T10:07:59.999Z'), 60_000)).toISOString()).toBe('2026-01-01T10:07:00.000Z');
  });

  it('given no window, when all 60 seconds arrive in one event, then one complete window is ready with that event as causation', () => {
    given();
    const { outcomes } = addChunk(state, chunk(1, samples(0, 60)), policy);
    const [w] = ready(outcomes);
    expect(outcomes).toHaveLength(1);
    expect(w!.reason).toBe('complete');
    expect(w!.window.start).toBe(T0);
    expect(w!.window.end).toBe(T0 + 60_000);
    expect(w!.window.samples).toHaveLength(60);
    expect(w!.window.samples[59]).toEqual({ ts: new Date(T0 + 59_000).toISOString(), values: { A: 59, B: -59 } });
    expect(w!.window.causationId).toBe(chunk(1, []).eventId);
    expect(state.open.size).toBe(0);
    expect(state.lastClosedStart).toBe(T0);
  });

  it('given a window split over two events, when the second completes it, then both events are its sources and the second is the causation', () => {
    given();
    expect(addChunk(state, chunk(1, samples(0, 30)), policy).outcomes).toEqual([]);
    const [w] = ready(addChunk(state, chunk(2, samples(30, 60)), policy).outcomes);
    expect(w!.window.sourceEventIds).toEqual([chunk(1, []).eventId, chunk(2, []).eventId]);
    expect(w!.window.causationId).toBe(chunk(2, []).eventId);
    expect(w!.window.correlationId).toBe('corr-2');
  });

  it('given one second with sensor A only, when B arrives later for that second, then the values merge and the window completes', () => {
    given();
    const partial = samples(0, 60).map((s, i) => (i === 10 ? { ts: s.ts, values: { A: 10 } } : s));
    expect(addChunk(state, chunk(1, partial), policy).outcomes).toEqual([]);
    const [w] = ready(addChunk(state, chunk(2, [{ ts: new Date(T0 + 10_000).toISOString(), values: { B: -10 } }]), policy).outcomes);
    expect(w!.window.samples[10]!.values).toEqual({ A: 10, B: -10 });
  });

  it('given out-of-order samples inside the open window, then they are accepted', () => {
    given();
    const shuffled = samples(0, 60).reverse();
    expect(ready(addChunk(state, chunk(1, shuffled), policy).outcomes)).toHaveLength(1);
  });

  it('given a scored window, when a sample for it arrives late, then it is ignored and counted, never re-scored', () => {
    given();
    addChunk(state, chunk(1, samples(0, 60)), policy);
    const { outcomes, late } = addChunk(state, chunk(2, samples(5, 6)), policy);
    expect(outcomes).toEqual([]);
    expect(late).toBe(1);
    expect(state.lateSamples).toBe(1);
    expect(state.open.size).toBe(0);
  });

  it('given an incomplete window, when the event-time watermark passes its end by the flush timeout, then it is flushed and scored with gaps filled', () => {
    given();
    addChunk(state, chunk(1, samples(0, 60).filter((_, i) => i !== 7 && i !== 8)), policy);
    addChunk(state, chunk(2, samples(0, 10, T0 + 180_000)), policy);
    const flushed = flushDue(state, T0 + 61_000, policy);
    const [w] = ready(flushed);
    expect(w!.reason).toBe('flushed');
    expect(w!.window.present).toBe(58);
    // Seconds 7 and 8 carry second 6's values forward.
    expect(w!.window.samples[7]!.values).toEqual({ A: 6, B: -6 });
    expect(w!.window.samples[8]!.values).toEqual({ A: 6, B: -6 });
  });

  it('given an incomplete window, when the log clock passes opened_at + timeout, then it is flushed even without newer samples', () => {
    given();
    addChunk(state, chunk(1, samples(0, 55), T0 + 61_000), policy);
    expect(flushDue(state, T0 + 61_000 + 119_999, policy)).toEqual([]);
    expect(ready(flushDue(state, T0 + 61_000 + 120_000, policy))).toHaveLength(1);
  });

  it('given too few seconds, when flushed, then the window is dropped with a reason and later samples for it are late', () => {
    given();
    addChunk(state, chunk(1, samples(0, 20)), policy);
    const [dropped] = flushAll(state, policy);
    expect(dropped).toEqual({ kind: 'dropped', reason: 'too_few_samples', systemId: 'sys', equipmentId: 'eq', start: T0, present: 20 });
    expect(state.droppedWindows).toBe(1);
    expect(addChunk(state, chunk(2, samples(20, 60)), policy).late).toBe(40);
  });

  it('given samples for two windows in one event, then each completed window is ready in start order', () => {
    given();
    const { outcomes } = addChunk(state, chunk(1, [...samples(0, 60, T0 + 60_000), ...samples(0, 60)]), policy);
    expect(ready(outcomes).map((o) => o.window.start)).toEqual([T0, T0 + 60_000]);
  });

  it('given a replay of the same chunks on a fresh state, then the outcomes are identical (deterministic)', () => {
    const run = () => {
      const s = emptyEquipment('sys', 'eq');
      const a = addChunk(s, chunk(1, samples(0, 40)), policy).outcomes;
      const b = addChunk(s, chunk(2, samples(40, 60)), policy).outcomes;
      return [...a, ...b, ...flushAll(s, policy)];
    };
    expect(run()).toEqual(run());
  });

  it('fills leading gaps from the first value seen', () => {
    const seconds = new Map<number, Record<string, number>>([[3, { A: 1, B: 2 }]]);
    const filled = fillSeconds({ start: T0, seconds }, policy);
    expect(filled[0]!.values).toEqual({ A: 1, B: 2 });
    expect(filled[59]!.values).toEqual({ A: 1, B: 2 });
  });
});
