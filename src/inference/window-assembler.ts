/**
 * Pure window assembly for the inference saga and for analyses (docs/inference-saga.md).
 *
 * Samples of one (system, equipment) are cut into windows of one duty cycle aligned to the epoch
 * (60 s: [hh:mm:00, hh:mm+1:00)). A second of a window is "present" when it carries every sensor of the
 * profile (values sent for the same second in several events are merged, last value wins). A window is
 * - complete (scored at once) when all its seconds are present;
 * - flushed when it timed out (see `flushDue`): scored when at least `minSamples` seconds are present,
 *   the missing seconds filled from the nearest present value; dropped with a reason otherwise;
 * - closed once scored or dropped: a later sample for it (or for any older window that is not open) is
 *   late and ignored (counted), never re-scored, so a decision once recorded stays the only one.
 * All clocks are taken from the data (sample time and the ingest event's created_at), so a replay of the
 * same log yields the same windows. The state is mutated in place (the saga owns it; speed matters).
 */

export interface TimedSample {
  ts: string;
  values: Record<string, number>;
}

export interface OpenWindow {
  /** Epoch ms of the window start. */
  start: number;
  /** Second offset (0..n-1) -> sensor values merged from every sample of that second. */
  seconds: Map<number, Record<string, number>>;
  /** Ingest events whose samples made the window, in order of arrival. */
  sourceEventIds: string[];
  /** The last event that contributed (it completed the window): causation id and its correlation id. */
  correlationId: string;
  causationId: string;
  /** created_at (epoch ms) of the event that opened the window: start of the flush clock. */
  openedAt: number;
}

export interface EquipmentWindows {
  systemId: string;
  equipmentId: string;
  open: Map<number, OpenWindow>;
  /** Start of the newest window that was scored or dropped; samples at or before it that find no open window are late. */
  lastClosedStart: number | null;
  /** Newest sample time seen (event time). */
  watermark: number | null;
  /** Opaque adaptive-threshold state of the detector for this equipment. */
  adaptiveState: unknown;
  lateSamples: number;
  droppedWindows: number;
  scoredWindows: number;
}

export interface WindowPolicy {
  windowMs: number;
  sensors: readonly string[];
  /** Present seconds needed to score a window that never completed. */
  minSamples: number;
  /** A window still open this long after it opened (log time) or after its end (event time) is flushed. */
  flushTimeoutMs: number;
}

export type WindowOutcome =
  | { kind: 'ready'; reason: 'complete' | 'flushed'; window: AssembledWindow }
  | { kind: 'dropped'; reason: 'too_few_samples'; systemId: string; equipmentId: string; start: number; present: number };

export interface AssembledWindow {
  systemId: string;
  equipmentId: string;
  start: number;
  end: number;
  /** One sample per second, gaps filled. */
  samples: TimedSample[];
  present: number;
  sourceEventIds: string[];
  correlationId: string;
  causationId: string;
}

export interface IngestedChunk {
  eventId: string;
  correlationId: string;
  /** created_at of the ingest event (epoch ms): the log clock. */
  createdAt: number;
  samples: readonly TimedSample[];
}

export function emptyEquipment(systemId: string, equipmentId: string): EquipmentWindows {
  return {
    systemId,
    equipmentId,
    open: new Map(),
    lastClosedStart: null,
    watermark: null,
    adaptiveState: undefined,
    lateSamples: 0,
    droppedWindows: 0,
    scoredWindows: 0,
  };
}

export function windowStartOf(tsMs: number, windowMs: number): number {
  return Math.floor(tsMs / windowMs) * windowMs;
}

/**
 * Adds one ingest event's samples. Returns the windows that became complete (in start order) and the
 * number of late samples ignored. Flushing by time is separate (`flushDue`).
 */
export function addChunk(
  state: EquipmentWindows,
  chunk: IngestedChunk,
  policy: WindowPolicy,
): { outcomes: WindowOutcome[]; late: number } {
  const touched = new Set<OpenWindow>();
  let late = 0;
  for (const sample of chunk.samples) {
    const t = Date.parse(sample.ts);
    if (!Number.isFinite(t)) continue;
    const start = windowStartOf(t, policy.windowMs);
    let window = state.open.get(start);
    if (!window) {
      if (state.lastClosedStart !== null && start <= state.lastClosedStart) {
        late++;
        continue;
      }
      window = {
        start,
        seconds: new Map(),
        sourceEventIds: [],
        correlationId: chunk.correlationId,
        causationId: chunk.eventId,
        openedAt: chunk.createdAt,
      };
      state.open.set(start, window);
    }
    const second = Math.floor((t - start) / 1000);
    const merged = window.seconds.get(second);
    window.seconds.set(second, merged ? { ...merged, ...sample.values } : { ...sample.values });
    if (window.sourceEventIds[window.sourceEventIds.length - 1] !== chunk.eventId) window.sourceEventIds.push(chunk.eventId);
    window.causationId = chunk.eventId;
    window.correlationId = chunk.correlationId;
    touched.add(window);
    if (state.watermark === null || t > state.watermark) state.watermark = t;
  }
  state.lateSamples += late;
  const outcomes: WindowOutcome[] = [];
  const secondsPerWindow = policy.windowMs / 1000;
  for (const window of [...touched].sort((a, b) => a.start - b.start)) {
    if (presentSeconds(window, policy) === secondsPerWindow) outcomes.push(close(state, window, 'complete', policy));
  }
  return { outcomes, late };
}

/**
 * Flushes the open windows that timed out at log time `now` (created_at of the event being processed) or
 * whose end lies `flushTimeoutMs` behind the equipment's event-time watermark.
 */
export function flushDue(state: EquipmentWindows, now: number, policy: WindowPolicy): WindowOutcome[] {
  const outcomes: WindowOutcome[] = [];
  const due = [...state.open.values()]
    .filter(
      (w) =>
        now - w.openedAt >= policy.flushTimeoutMs ||
        (state.watermark !== null && state.watermark - (w.start + policy.windowMs) >= policy.flushTimeoutMs),
    )
    .sort((a, b) => a.start - b.start);
  for (const window of due) outcomes.push(close(state, window, 'flushed', policy));
  return outcomes;
}

/** Every open window, flushed now regardless of time (analysis of a stored range, where no more data comes). */
export function flushAll(state: EquipmentWindows, policy: WindowPolicy): WindowOutcome[] {
  return [...state.open.values()].sort((a, b) => a.start - b.start).map((w) => close(state, w, 'flushed', policy));
}

/** The earliest log time at which some window of this equipment is due by the log clock. */
export function nextLogDeadline(state: EquipmentWindows, policy: WindowPolicy): number {
  let min = Infinity;
  for (const w of state.open.values()) min = Math.min(min, w.openedAt + policy.flushTimeoutMs);
  return min;
}

export function presentSeconds(window: OpenWindow, policy: WindowPolicy): number {
  let n = 0;
  for (const [second, values] of window.seconds) {
    if (second >= 0 && second < policy.windowMs / 1000 && policy.sensors.every((s) => values[s] !== undefined)) n++;
  }
  return n;
}

function close(state: EquipmentWindows, window: OpenWindow, reason: 'complete' | 'flushed', policy: WindowPolicy): WindowOutcome {
  state.open.delete(window.start);
  if (state.lastClosedStart === null || window.start > state.lastClosedStart) state.lastClosedStart = window.start;
  const present = presentSeconds(window, policy);
  if (present < policy.minSamples) {
    state.droppedWindows++;
    return { kind: 'dropped', reason: 'too_few_samples', systemId: state.systemId, equipmentId: state.equipmentId, start: window.start, present };
  }
  state.scoredWindows++;
  return {
    kind: 'ready',
    reason,
    window: {
      systemId: state.systemId,
      equipmentId: state.equipmentId,
      start: window.start,
      end: window.start + policy.windowMs,
      samples: fillSeconds(window, policy),
      present,
      sourceEventIds: [...window.sourceEventIds],
      correlationId: window.correlationId,
      causationId: window.causationId,
    },
  };
}

/**
 * One sample per second. A missing value takes the previous second's value of that sensor (the first
 * seconds take the first value seen): the detector's features expect exactly one row per second.
 */
export function fillSeconds(window: Pick<OpenWindow, 'start' | 'seconds'>, policy: Pick<WindowPolicy, 'windowMs' | 'sensors'>): TimedSample[] {
  const n = policy.windowMs / 1000;
  const rows: Record<string, number>[] = [];
  for (let s = 0; s < n; s++) rows.push({});
  for (const sensor of policy.sensors) {
    let first: number | undefined;
    for (let s = 0; s < n && first === undefined; s++) first = window.seconds.get(s)?.[sensor];
    let last = first ?? 0;
    for (let s = 0; s < n; s++) {
      const v = window.seconds.get(s)?.[sensor];
      if (v !== undefined) last = v;
      rows[s]![sensor] = last;
    }
  }
  return rows.map((values, s) => ({ ts: new Date(window.start + s * 1000).toISOString(), values }));
}
