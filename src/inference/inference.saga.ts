import { sql } from 'kysely';
import type { Database } from '../database/database.js';
import {
  comparePositions,
  DuplicateEventIdError,
  type EventStore,
  type NewEvent,
  type Position,
  type RecordedEvent,
  type Subscription,
} from '../event-store/event-store.js';
import { ANOMALY_DETECTED, type AnomalyDetectedData } from '../events/anomaly-detected.event.js';
import { upcast } from '../events/event-registry.js';
import { MODEL_VERSION_PROMOTED, type ModelVersionPromotedData } from '../events/model-version-promoted.event.js';
import { READINGS_INGESTED, type ReadingsIngestedData } from '../events/readings-ingested.event.js';
import { streams } from '../events/streams.js';
import { runWithCorrelation } from '../observability/correlation.js';
import { metrics } from '../observability/metrics.js';
import { inSlot, partitionKey, type PartitionSlot } from '../events/partition-key.js';
import { readCheckpoint, storeCheckpoint } from '../projections/projection-runner.js';
import { IdleCheckpoint } from '../projections/partitions/idle-checkpoint.js';
import { checkFence, LeaseLostError, type Fence } from '../projections/partitions/lease-fence.js';
import { anomalyDetectedEvent, appendAnomaly, appendOnce, baselineEstablishedEvent } from './window-anomaly-event.js';
import {
  addChunk,
  emptyEquipment,
  flushDue,
  nextLogDeadline,
  type EquipmentWindows,
  type OpenWindow,
  type WindowOutcome,
  type WindowPolicy,
} from './window-assembler.js';
import { minSamplesFor, type ScorerLoader, type WindowScorer } from './window-scorer.js';

export const INFERENCE_SAGA = 'inference-saga';
const ACTOR = 'inference-saga';

export interface InferenceSagaOptions {
  flushTimeoutMs: number;
  batchSize?: number;
  /** Present seconds needed to score a window that never completed; default 90 % of the duty cycle. */
  minSamples?: number;
  /** Delay before the saga resubscribes (reloading its state) after a failure. */
  restartDelayMs?: number;
  /** Loads a promoted version; without it ModelVersionPromoted events are logged and ignored. */
  loadVersion?: ScorerLoader;
  log?: (level: 'info' | 'warn' | 'error', message: string, details?: Record<string, unknown>) => void;
  /** One partition of the log (issue #19): its own checkpoint, state rows and model row under `name`. */
  slot?: PartitionSlot;
  /** Checkpoint name; default 'inference-saga' (the whole log). */
  name?: string;
  /** Scorers of promoted versions belong to whoever passed `loadVersion` (shared by partitions): not closed on stop. */
  keepLoaded?: boolean;
  /** Inclusive: process nothing past this position (`projections repartition`). */
  until?: Position;
}

export interface InferenceSagaStatus {
  name: string;
  checkpoint: Position | undefined;
  caughtUp: boolean;
  openWindows: number;
  error?: string;
}

/**
 * Turns ReadingsIngested into AnomalyDetected. A durable subscriber with its own checkpoint
 * ('inference-saga' in projection_checkpoints). Per batch: assemble windows (pure, window-assembler.ts),
 * score the finished ones in order, append one AnomalyDetected per anomalous window with a deterministic
 * id, then store the open windows, per-equipment state and the checkpoint in ONE transaction.
 * A crash before that commit replays the batch from the old state: same windows, same scores, same ids,
 * and the idempotent append writes nothing twice. A crash after it resumes exactly after the batch.
 */
export class InferenceSaga {
  private readonly equipment = new Map<string, EquipmentWindows>();
  private readonly policy: WindowPolicy;
  private subscription: Subscription | undefined;
  private checkpoint: Position | undefined;
  private caughtUp = false;
  private error: string | undefined;
  private stopped = true;
  private restartTimer: NodeJS.Timeout | undefined;
  private logDeadline = Infinity;
  /** The scorer in use; `initial` is the configured one, others were loaded for promotions. */
  private scorer: WindowScorer;
  private readonly loaded = new Map<string, WindowScorer>();
  private versionChanged = false;
  /** BaselineEstablished events of the batch in hand (appended before the commit, like the decisions) */
  private baselines: NewEvent[] = [];
  readonly name: string;
  private fence: Fence | undefined;
  private fenced: (() => void) | undefined;
  private readonly idle: IdleCheckpoint;

  constructor(
    private readonly database: Database,
    private readonly store: EventStore,
    private readonly initial: WindowScorer,
    private readonly options: InferenceSagaOptions,
  ) {
    const scorer = initial;
    this.name = options.name ?? INFERENCE_SAGA;
    this.idle = new IdleCheckpoint(database.db, this.name, () => this.fence);
    this.scorer = initial;
    this.loaded.set(initial.version, initial);
    this.policy = {
      windowMs: scorer.dutyCycleSeconds * 1000,
      sensors: scorer.sensors.map((s) => s.id),
      minSamples: options.minSamples ?? minSamplesFor(scorer.dutyCycleSeconds),
      flushTimeoutMs: options.flushTimeoutMs,
    };
  }

  get modelVersion(): string {
    return this.scorer.version;
  }

  /** From the stored checkpoint; with a fence (a lease), every commit checks it and `fenced` hears of a refusal. */
  async start(fence?: Fence, fenced?: () => void): Promise<void> {
    this.stopped = false;
    this.fence = fence;
    this.fenced = fenced;
    await this.subscribe();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    await this.subscription?.stop();
    this.subscription = undefined;
    await this.idle.stop();
    // Versions loaded for promotions are ours to close; the initial one belongs to whoever passed it in.
    if (!this.options.keepLoaded) for (const scorer of this.loaded.values()) if (scorer !== this.initial) await scorer.close?.();
    this.loaded.clear();
    this.loaded.set(this.initial.version, this.initial);
    this.scorer = this.initial;
  }

  status(head?: Position): InferenceSagaStatus {
    if (head) {
      metrics.projectionLagEvents.set({ projection: this.name }, Math.max(0, head.prepare - (this.checkpoint?.prepare ?? 0)));
    }
    let openWindows = 0;
    for (const e of this.equipment.values()) openWindows += e.open.size;
    return { name: this.name, checkpoint: this.checkpoint, caughtUp: this.caughtUp, openWindows, error: this.error };
  }

  /** Resolves once the saga has processed the log up to `position` (tests, benchmarks). */
  async waitFor(position: Position, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(this.checkpoint && comparePositions(this.checkpoint, position) >= 0)) {
      if (Date.now() > deadline) throw new Error(`inference saga did not reach ${JSON.stringify(position)} within ${timeoutMs} ms (${this.error ?? 'no error'})`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private async subscribe(): Promise<void> {
    await this.load();
    this.error = undefined;
    this.subscription = this.store.subscribeToAll({
      after: this.checkpoint,
      batchSize: this.options.batchSize ?? 500,
      ...(this.options.until ? { until: this.options.until } : {}),
      ...(this.options.slot ? { filter: { partition: this.options.slot } } : {}),
      handler: (events) => this.handle(events),
      onCheckpoint: (position, createdAt) => this.passOver(position, createdAt),
      onCaughtUp: () => {
        this.caughtUp = true;
        metrics.projectionLagSeconds.set({ projection: this.name }, 0);
      },
      onError: (error) => {
        if (error instanceof LeaseLostError) {
          // Another worker runs this partition now: stop, never resubscribe.
          this.stopped = true;
          this.fenced?.();
          return;
        }
        this.error = error instanceof Error ? error.message : String(error);
        this.log('error', 'inference saga stopped; restarting from its checkpoint', { err: this.error });
        // In-memory state may be ahead of the database now: resubscribe from the stored state.
        this.restartLater();
      },
    });
  }

  /** Until the stored state can be read again (the database may still be away), try again after the delay. */
  private restartLater(): void {
    if (this.stopped) return;
    this.restartTimer = setTimeout(() => {
      if (this.stopped) return;
      this.subscribe().catch((e) => {
        this.error = e instanceof Error ? e.message : String(e);
        this.restartLater();
      });
    }, this.options.restartDelayMs ?? 1000);
  }

  /** Loads checkpoint and state as of the last commit. */
  private async load(): Promise<void> {
    const db = this.database.db;
    this.checkpoint = await readCheckpoint(db, this.name);
    this.equipment.clear();
    this.baselines = [];
    const mine = (row: { system_id: string; equipment_id: string }) => inSlot(partitionKey(row.system_id, row.equipment_id), this.options.slot);
    for (const row of await db.selectFrom('inference_equipment').selectAll().execute()) {
      if (!mine(row)) continue;
      const state = emptyEquipment(row.system_id, row.equipment_id);
      state.lastClosedStart = row.last_closed_start ? new Date(row.last_closed_start).getTime() : null;
      state.watermark = row.watermark ? new Date(row.watermark).getTime() : null;
      state.adaptiveState = row.adaptive_state ?? undefined;
      state.lateSamples = Number(row.late_samples);
      state.droppedWindows = Number(row.dropped_windows);
      state.scoredWindows = Number(row.scored_windows);
      this.equipment.set(key(row.system_id, row.equipment_id), state);
    }
    for (const row of await db.selectFrom('inference_windows').selectAll().execute()) {
      if (!mine(row)) continue;
      const state = this.stateOf(row.system_id, row.equipment_id);
      const seconds = new Map<number, Record<string, number>>();
      for (const [s, values] of Object.entries(row.samples as Record<string, Record<string, number>>)) seconds.set(Number(s), values);
      const start = new Date(row.window_start).getTime();
      state.open.set(start, {
        start,
        seconds,
        sourceEventIds: row.source_event_ids as string[],
        correlationId: row.correlation_id,
        causationId: row.causation_id,
        openedAt: new Date(row.opened_at).getTime(),
      });
    }
    this.recomputeLogDeadline();
    const adopted = await db.selectFrom('inference_saga_model').select('model_version').where('name', '=', this.name).executeTakeFirst();
    this.scorer = adopted ? await this.scorerFor(adopted.model_version) : this.initial;
    this.versionChanged = false;
  }

  private async scorerFor(version: string): Promise<WindowScorer> {
    let scorer = this.loaded.get(version);
    if (!scorer) {
      if (!this.options.loadVersion) throw new Error(`model version ${version} is needed but this saga cannot load versions`);
      scorer = await this.options.loadVersion(version);
      this.loaded.set(version, scorer);
    }
    return scorer;
  }

  /**
   * From this point in the log on, windows are scored with the promoted version. Adaptive baselines belong
   * to a model version, so every equipment starts again from the new version's healthy baseline.
   */
  private async adopt(promoted: ModelVersionPromotedData, dirty: Set<EquipmentWindows>): Promise<void> {
    if (promoted.modelVersion === this.scorer.version) return;
    if (this.scorer.profile && promoted.profile !== this.scorer.profile) return;
    if (!this.options.loadVersion) {
      this.log('warn', 'model version promoted, but this saga cannot load versions: ignored', { model_version: promoted.modelVersion });
      return;
    }
    this.scorer = await this.scorerFor(promoted.modelVersion);
    this.versionChanged = true;
    for (const state of this.equipment.values()) {
      state.adaptiveState = undefined;
      dirty.add(state);
    }
    this.log('info', 'inference saga switched model version', { model_version: promoted.modelVersion, previous: promoted.previousVersion });
  }

  private async decideAll(outcomes: WindowOutcome[]): Promise<NewEvent<typeof ANOMALY_DETECTED, AnomalyDetectedData>[]> {
    const decisions: NewEvent<typeof ANOMALY_DETECTED, AnomalyDetectedData>[] = [];
    for (const outcome of outcomes) {
      const event = await this.decide(outcome);
      if (event) decisions.push(event);
    }
    return decisions;
  }

  private async handle(raw: readonly RecordedEvent[]): Promise<void> {
    const dirty = new Set<EquipmentWindows>();
    let outcomes: WindowOutcome[] = [];
    const decisions: NewEvent<typeof ANOMALY_DETECTED, AnomalyDetectedData>[] = [];
    for (const recorded of raw) {
      const createdAt = Date.parse(recorded.createdAt);
      if (recorded.type === MODEL_VERSION_PROMOTED) {
        // Windows finished before the promotion are scored with the version that was active then.
        decisions.push(...(await this.decideAll(outcomes)));
        outcomes = [];
        await this.adopt(upcast(recorded).data as ModelVersionPromotedData, dirty);
      }
      if (recorded.type === READINGS_INGESTED) {
        const event = upcast(recorded) as RecordedEvent<string, ReadingsIngestedData>;
        const d = event.data;
        const state = this.stateOf(d.systemId, d.equipmentId);
        const added = addChunk(
          state,
          { eventId: event.eventId, correlationId: event.metadata.correlationId, createdAt, samples: d.samples },
          this.policy,
        );
        if (added.late > 0) metrics.sagaLateSamples.inc(added.late);
        outcomes.push(...added.outcomes, ...flushDue(state, createdAt, this.policy));
        dirty.add(state);
        this.logDeadline = Math.min(this.logDeadline, nextLogDeadline(state, this.policy));
      }
      // The log clock (created_at of each event, in log order) also flushes equipment that went quiet.
      if (createdAt >= this.logDeadline) {
        for (const state of this.equipment.values()) {
          const flushed = flushDue(state, createdAt, this.policy);
          if (flushed.length) {
            outcomes.push(...flushed);
            dirty.add(state);
          }
        }
        this.recomputeLogDeadline();
      }
    }

    decisions.push(...(await this.decideAll(outcomes)));
    await this.conclude(decisions, dirty, raw[raw.length - 1]!.position);
    metrics.projectionLagSeconds.set(
      { projection: this.name },
      Math.max(0, (Date.now() - Date.parse(raw[raw.length - 1]!.createdAt)) / 1000),
    );
  }

  /** Appends the batch's decisions and baselines (idempotently), then commits state and checkpoint `last` at once. */
  private async conclude(decisions: NewEvent<typeof ANOMALY_DETECTED, AnomalyDetectedData>[], dirty: Set<EquipmentWindows>, last: Position): Promise<void> {
    await this.record(decisions);
    // deterministic ids: a replayed batch finds them recorded ('already')
    for (const event of this.baselines.splice(0)) {
      const data = event.data as { systemId: string };
      await appendOnce(this.store, streams.baselines(data.systemId), event);
    }
    await this.commit(dirty, last);
    this.versionChanged = false;
    this.checkpoint = last;
  }

  /**
   * A partition read past other partitions' events up to `position` (event time `createdAt`). That time is the log
   * clock for this partition's quiet equipment: windows due by it are flushed as an empty batch would; otherwise the
   * position is only stored (at most every IDLE_CHECKPOINT_MS), so lag and repartitioning see the partition at the head.
   */
  private async passOver(position: Position, createdAt: string | undefined): Promise<void> {
    const at = createdAt ? Date.parse(createdAt) : -Infinity;
    if (at >= this.logDeadline) {
      const dirty = new Set<EquipmentWindows>();
      const outcomes: WindowOutcome[] = [];
      for (const state of this.equipment.values()) {
        const flushed = flushDue(state, at, this.policy);
        if (flushed.length) {
          outcomes.push(...flushed);
          dirty.add(state);
        }
      }
      this.recomputeLogDeadline();
      await this.conclude(await this.decideAll(outcomes), dirty, position);
      return;
    }
    this.checkpoint = position;
    await this.idle.passed(position);
  }

  /** Scores a finished window and records an anomaly; dropped windows are only counted. */
  private async decide(outcome: WindowOutcome): Promise<NewEvent<typeof ANOMALY_DETECTED, AnomalyDetectedData> | undefined> {
    if (outcome.kind === 'dropped') {
      metrics.sagaWindows.inc({ outcome: `dropped_${outcome.reason}` });
      this.log('warn', 'window dropped', { system_id: outcome.systemId, equipment_id: outcome.equipmentId, window_start: new Date(outcome.start).toISOString(), present: outcome.present, reason: outcome.reason });
      return undefined;
    }
    const w = outcome.window;
    const state = this.stateOf(w.systemId, w.equipmentId);
    let scored;
    try {
      scored = await this.scorer.scoreWindow(w.samples, state.adaptiveState);
    } catch (error) {
      // A window the model cannot score must not stall the log: counted, logged, skipped.
      metrics.sagaWindows.inc({ outcome: 'score_error' });
      this.log('error', 'window could not be scored', { system_id: w.systemId, equipment_id: w.equipmentId, window_start: new Date(w.start).toISOString(), err: String(error) });
      return undefined;
    }
    state.adaptiveState = scored.state;
    const ref = scored.result.baselineEstablished;
    if (ref) {
      this.baselines.push(baselineEstablishedEvent(w, scored.result.modelVersion, ref, { correlationId: w.correlationId, causationId: w.causationId, actor: ACTOR }));
      this.log('info', 'healthy baseline established', { system_id: w.systemId, equipment_id: w.equipmentId, regime: ref.regime, windows: ref.windows });
    }
    metrics.sagaWindows.inc({ outcome: scored.result.isAnomaly ? 'anomaly' : 'normal' });
    if (!scored.result.isAnomaly) return undefined;
    return anomalyDetectedEvent(w, scored.result, { correlationId: w.correlationId, causationId: w.causationId, actor: ACTOR });
  }

  /**
   * One append per system stream for the batch's decisions (fewer round trips). The adapter treats a
   * re-append as success only when every id matches; when a replay finds only some of them stored
   * (a crash between appends), each decision is appended on its own, idempotently.
   */
  private async record(decisions: NewEvent<typeof ANOMALY_DETECTED, AnomalyDetectedData>[]): Promise<void> {
    const bySystem = new Map<string, NewEvent<typeof ANOMALY_DETECTED, AnomalyDetectedData>[]>();
    for (const d of decisions) bySystem.set(d.data.systemId, [...(bySystem.get(d.data.systemId) ?? []), d]);
    for (const [systemId, events] of bySystem) {
      let written: NewEvent<typeof ANOMALY_DETECTED, AnomalyDetectedData>[] = [];
      try {
        const result = await this.store.append(streams.anomalies(systemId), events, 'any');
        if (result.written) written = events;
      } catch (error) {
        if (!(error instanceof DuplicateEventIdError)) throw error;
        for (const event of events) if ((await appendAnomaly(this.store, event)) === 'written') written.push(event);
      }
      for (const event of written) {
        metrics.anomaliesDetected.inc({ severity: event.data.severity, component: event.data.affectedComponent ?? 'none' });
        // Logged under the ingest request's correlation id (docs/api-conventions.md).
        runWithCorrelation({ correlationId: event.metadata.correlationId, causationId: event.metadata.causationId }, () =>
          this.log('info', 'anomaly detected', { system_id: systemId, equipment_id: event.data.equipmentId, severity: event.data.severity, event_id: event.eventId }),
        );
      }
    }
  }

  /** Open windows, per-equipment state and the checkpoint, atomically. */
  private async commit(dirty: Set<EquipmentWindows>, last: Position): Promise<void> {
    await this.database.db.transaction().execute(async (trx) => {
      // First: a saga that lost its lease commits nothing (its appends were idempotent; the new holder redoes them).
      await checkFence(trx, this.fence);
      if (dirty.size > 0) {
        const states = [...dirty];
        const keys = JSON.stringify(states.map((s) => ({ system_id: s.systemId, equipment_id: s.equipmentId })));
        await sql`
          delete from inference_windows w using jsonb_to_recordset(${keys}::jsonb) as k(system_id text, equipment_id text)
          where w.system_id = k.system_id and w.equipment_id = k.equipment_id`.execute(trx);
        const windows = states.flatMap((s) => [...s.open.values()].map((w) => windowRow(s, w)));
        if (windows.length > 0) {
          await sql`
            insert into inference_windows (system_id, equipment_id, window_start, samples, source_event_ids, correlation_id, causation_id, opened_at)
            select system_id, equipment_id, window_start, samples, source_event_ids, correlation_id, causation_id, opened_at
            from jsonb_to_recordset(${JSON.stringify(windows)}::jsonb) as x(system_id text, equipment_id text, window_start timestamptz,
              samples jsonb, source_event_ids jsonb, correlation_id text, causation_id uuid, opened_at timestamptz)`.execute(trx);
        }
        const equipment = states.map((s) => ({
          system_id: s.systemId,
          equipment_id: s.equipmentId,
          last_closed_start: s.lastClosedStart === null ? null : new Date(s.lastClosedStart).toISOString(),
          watermark: s.watermark === null ? null : new Date(s.watermark).toISOString(),
          adaptive_state: s.adaptiveState === undefined ? null : s.adaptiveState,
          late_samples: s.lateSamples,
          dropped_windows: s.droppedWindows,
          scored_windows: s.scoredWindows,
        }));
        await sql`
          insert into inference_equipment (system_id, equipment_id, last_closed_start, watermark, adaptive_state, late_samples, dropped_windows, scored_windows)
          select system_id, equipment_id, last_closed_start, watermark, adaptive_state, late_samples, dropped_windows, scored_windows
          from jsonb_to_recordset(${JSON.stringify(equipment)}::jsonb) as x(system_id text, equipment_id text, last_closed_start timestamptz,
            watermark timestamptz, adaptive_state jsonb, late_samples bigint, dropped_windows bigint, scored_windows bigint)
          on conflict (system_id, equipment_id) do update set last_closed_start = excluded.last_closed_start,
            watermark = excluded.watermark, adaptive_state = excluded.adaptive_state, late_samples = excluded.late_samples,
            dropped_windows = excluded.dropped_windows, scored_windows = excluded.scored_windows`.execute(trx);
      }
      if (this.versionChanged) {
        await sql`
          insert into inference_saga_model (name, model_version) values (${this.name}, ${this.scorer.version})
          on conflict (name) do update set model_version = excluded.model_version`.execute(trx);
      }
      await storeCheckpoint(trx, this.name, last);
    });
    this.idle.saved();
  }

  private stateOf(systemId: string, equipmentId: string): EquipmentWindows {
    const k = key(systemId, equipmentId);
    let state = this.equipment.get(k);
    if (!state) {
      state = emptyEquipment(systemId, equipmentId);
      this.equipment.set(k, state);
    }
    return state;
  }

  private recomputeLogDeadline(): void {
    this.logDeadline = Infinity;
    for (const state of this.equipment.values()) this.logDeadline = Math.min(this.logDeadline, nextLogDeadline(state, this.policy));
  }

  private log(level: 'info' | 'warn' | 'error', message: string, details?: Record<string, unknown>): void {
    this.options.log?.(level, message, details);
  }
}

function key(systemId: string, equipmentId: string): string {
  return `${systemId}\u0000${equipmentId}`;
}

function windowRow(state: EquipmentWindows, w: OpenWindow) {
  return {
    system_id: state.systemId,
    equipment_id: state.equipmentId,
    window_start: new Date(w.start).toISOString(),
    samples: Object.fromEntries(w.seconds),
    source_event_ids: w.sourceEventIds,
    correlation_id: w.correlationId,
    causation_id: w.causationId,
    opened_at: new Date(w.openedAt).toISOString(),
  };
}
