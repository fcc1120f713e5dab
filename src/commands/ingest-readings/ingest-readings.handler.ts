import { createHash, randomUUID } from 'node:crypto';
import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { AppConfig } from '../../config/config.schema.js';
import type { Database } from '../../database/database.js';
import type { EventStore } from '../../event-store/event-store.js';
import type { DetectorHolder } from '../../inference/inference-saga.module.js';
import { ANOMALY_DETECTOR } from '../../inference/window-scorer.js';
import { CONFIG, DATABASE, EVENT_STORE } from '../../infrastructure/tokens.js';
import { metrics } from '../../observability/metrics.js';
import { batchIdFor, decideIngest } from './decide-ingest.js';
import { IdempotencyConflictError } from './idempotency-conflict.error.js';
import { IngestReadingsCommand, type IngestOutcome, type IngestResult } from './ingest-readings.command.js';
import { listedErrors } from './listed-errors.js';
import { parseBatch, type SensorRanges } from './parse-batch.js';
import { TooManySystemsError } from './too-many-systems.error.js';

const SCOPE = 'ingest';

@CommandHandler(IngestReadingsCommand)
export class IngestReadingsHandler implements ICommandHandler<IngestReadingsCommand, IngestOutcome> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(DATABASE) private readonly database: Database,
    @Inject(CONFIG) private readonly config: AppConfig,
    @Inject(ANOMALY_DETECTOR) private readonly detector: DetectorHolder,
  ) {}

  private rangesOf: { sensors: unknown; ranges: SensorRanges } | undefined;

  /** The loaded model version's sensor ranges (detect rejects the same values); rebuilt only when it changes. */
  private ranges(): SensorRanges {
    const sensors = this.detector.scorer?.sensors;
    if (this.rangesOf && this.rangesOf.sensors === sensors) return this.rangesOf.ranges;
    const ranges = new Map<string, { min: number; max: number; unit: string }>();
    for (const s of (sensors ?? []) as readonly { id: string; min?: number; max?: number; unit?: string }[])
      if (typeof s.min === 'number' && typeof s.max === 'number') ranges.set(s.id, { min: s.min, max: s.max, unit: s.unit ?? '' });
    this.rangesOf = { sensors, ranges };
    return ranges;
  }

  async execute(command: IngestReadingsCommand): Promise<IngestOutcome> {
    const { source, body, context, idempotencyKey } = command;
    const requestHash = idempotencyKey ? hashRequest(source, body) : '';
    if (idempotencyKey) {
      const previous = await this.database.db
        .selectFrom('idempotency_keys')
        .select(['request_hash', 'response'])
        .where('scope', '=', `${SCOPE}:${context.actor}`)
        .where('key', '=', idempotencyKey)
        .executeTakeFirst();
      if (previous) {
        if (previous.request_hash !== requestHash) throw new IdempotencyConflictError(idempotencyKey);
        return { result: storedResult(previous.response as IngestResult), replayed: true };
      }
    }

    const batch = await parseBatch(source, body, this.config.INGEST_MAX_ROWS, this.ranges());
    const systems = new Set([...batch.valid.map((r) => r.system_id), ...batch.rejected.map((r) => r.systemId ?? '')]);
    if (systems.size > this.config.INGEST_MAX_SYSTEMS) throw new TooManySystemsError(systems.size, this.config.INGEST_MAX_SYSTEMS);
    const batchId = batchIdFor(context.actor, idempotencyKey, randomUUID);
    const appends = decideIngest(batch, {
      batchId,
      source,
      correlationId: context.correlationId,
      // The batch id names this ingest command (stable under an Idempotency-Key retry): the events' cause.
      causationId: batchId,
      actor: context.actor,
      occurredAt: new Date().toISOString(),
    });
    // One atomic append per stream; deterministic event ids make a retried request idempotent per stream.
    // Between appends the event loop gets a turn: embedded PGlite runs on this thread, and /health/live and
    // the request timeout must not wait for a whole batch.
    for (const { streamId, events } of appends) {
      await this.store.append(streamId, events, 'any');
      await new Promise<void>((resolve) => setImmediate(resolve));
    }

    const result: IngestResult = {
      batch_id: batchId,
      accepted: batch.valid.length,
      quarantined: batch.rejected.length,
      ...listedErrors(batch.rejected, batchId),
    };
    if (idempotencyKey) {
      await this.database.db
        .insertInto('idempotency_keys')
        .values({ scope: `${SCOPE}:${context.actor}`, key: idempotencyKey, request_hash: requestHash, response: JSON.stringify(result) })
        .onConflict((oc) => oc.doNothing())
        .execute();
    }
    metrics.readingsAccepted.inc({ protocol: source }, batch.valid.length);
    metrics.protocolRows.inc({ protocol: source, outcome: 'accepted' }, batch.valid.length);
    metrics.protocolRows.inc({ protocol: source, outcome: 'quarantined' }, batch.rejected.length);
    for (const r of batch.rejected) for (const e of r.errors.slice(0, 1)) metrics.invalidRows.inc({ reason: reasonLabel(e.field) });
    return { result, replayed: false };
  }
}

/** A response stored before errors were bounded lists every error: its total is their number. */
function storedResult(stored: IngestResult): IngestResult {
  return { ...stored, errors_total: stored.errors_total ?? stored.errors.length, more_errors: stored.more_errors ?? null };
}

function hashRequest(source: string, body: unknown): string {
  return createHash('sha256')
    .update(source)
    .update('\u0000')
    .update(typeof body === 'string' ? body : JSON.stringify(body))
    .digest('hex');
}

/** Bounded label values: the field that failed, or `other`. */
function reasonLabel(field: string): string {
  return ['system_id', 'equipment_id', 'sensor_id', 'ts', 'v', 'unit', 'meta', 'row'].includes(field) ? field : 'unknown_column';
}
