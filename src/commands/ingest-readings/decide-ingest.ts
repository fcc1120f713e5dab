import { v5 as uuidv5 } from 'uuid';
import type { NewEvent } from '../../event-store/event-store.js';
import { EVENT_CHUNK_BYTES } from '../../events/event-size.js';
import { newEvent } from '../../events/event-registry.js';
import {
  MAX_SAMPLES_PER_EVENT,
  READINGS_INGESTED,
  type ReadingsIngestedData,
  type Sample,
} from '../../events/readings-ingested.event.js';
import { countErrors, READINGS_QUARANTINED, type ReadingsQuarantinedData } from '../../events/readings-quarantined.event.js';
import { streams } from '../../events/streams.js';
import type { IngestSource, ParsedBatch, RejectedRow, ValidRow } from './parse-batch.js';

/** Namespace for deterministic ids of ingest events (uuid v5). */
export const INGEST_NAMESPACE = '6f1b8c1e-3f7a-4c52-9a51-2d8e0b7c4a10';

export interface IngestContext {
  batchId: string;
  source: IngestSource;
  correlationId: string;
  causationId?: string;
  actor: string;
  occurredAt: string;
}

export interface StreamAppend {
  streamId: string;
  events: NewEvent[];
}

/** Batch id for a request: derived from the Idempotency-Key (so a retry lands on the same events), else random. */
export function batchIdFor(actor: string, idempotencyKey: string | undefined, random: () => string): string {
  return idempotencyKey ? uuidv5(`${actor}\u0000${idempotencyKey}`, INGEST_NAMESPACE) : random();
}

/**
 * Turns a validated batch into the appends to make, one per stream: valid rows grouped per
 * (system, equipment) into samples by timestamp and chunked to bounded events; rejected rows into one
 * ReadingsQuarantined per system. Event ids are a function of (batch, stream, index): a retry is idempotent.
 * Within one batch a later row for the same (equipment, sensor, ts) replaces an earlier one.
 */
export function decideIngest(batch: ParsedBatch, ctx: IngestContext): StreamAppend[] {
  const perStream = new Map<string, NewEvent[]>();
  const push = (streamId: string, build: (eventId: string) => NewEvent) => {
    const list = perStream.get(streamId) ?? [];
    list.push(build(uuidv5(`${ctx.batchId}/${streamId}/${list.length}`, INGEST_NAMESPACE)));
    perStream.set(streamId, list);
  };
  const metadata = { correlationId: ctx.correlationId, causationId: ctx.causationId, actor: ctx.actor, occurredAt: ctx.occurredAt };

  for (const [key, rows] of groupBy(batch.valid, (r) => `${r.system_id}\u0000${r.equipment_id}`)) {
    const [systemId, equipmentId] = key.split('\u0000') as [string, string];
    const { samples, units } = toSamples(rows);
    // At most MAX_SAMPLES_PER_EVENT samples and about EVENT_CHUNK_BYTES per event (meta makes samples large).
    chunksOf(samples, MAX_SAMPLES_PER_EVENT, sampleBytes).forEach((chunkSamples, chunk) => {
      const data: ReadingsIngestedData = { batchId: ctx.batchId, systemId, equipmentId, source: ctx.source, chunk, samples: chunkSamples, units };
      push(streams.readings(systemId), (id) => newEvent(READINGS_INGESTED, id, data, metadata));
    });
  }

  for (const [systemId, rows] of groupBy(batch.rejected, systemIdOf)) {
    for (const part of chunksOf(rows, Number.MAX_SAFE_INTEGER, rejectedRowBytes)) {
      const data: ReadingsQuarantinedData = {
        batchId: ctx.batchId,
        systemId: systemId || null,
        source: ctx.source,
        rows: part.map((r) => ({ row: r.row, raw: r.raw, rawBytes: r.rawBytes ?? 0, rawSha256: r.rawSha256 ?? EMPTY_SHA256, rawTruncated: r.rawTruncated ?? false, errors: r.errors })),
        errorCount: countErrors(part),
      };
      push(systemId ? streams.readings(systemId) : streams.unassignedQuarantine, (id) => newEvent(READINGS_QUARANTINED, id, data, metadata));
    }
  }
  return [...perStream].map(([streamId, events]) => ({ streamId, events }));
}

function toSamples(rows: ValidRow[]): { samples: Sample[]; units: Record<string, string> } {
  const byTs = new Map<string, Sample>();
  const units: Record<string, string> = {};
  // Long format repeats each timestamp once per sensor: normalise each distinct string once.
  const normalised = new Map<string, string>();
  for (const r of rows) {
    let ts = normalised.get(r.ts);
    if (ts === undefined) normalised.set(r.ts, (ts = new Date(r.ts).toISOString()));
    let sample = byTs.get(ts);
    if (!sample) {
      sample = { ts, values: {} };
      byTs.set(ts, sample);
    }
    sample.values[r.sensor_id] = r.v;
    if (r.meta) (sample.meta ??= {})[r.sensor_id] = r.meta;
    if (r.unit) units[r.sensor_id] = r.unit;
  }
  const samples = [...byTs.values()].sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
  return { samples, units };
}

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** Consecutive runs of at most `maxItems` items and about EVENT_CHUNK_BYTES (each run holds one item at least). */
function chunksOf<T>(items: T[], maxItems: number, bytesOf: (item: T) => number): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const n = bytesOf(item);
    if (current.length && (current.length >= maxItems || bytes + n > EVENT_CHUNK_BYTES)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += n;
  }
  if (current.length) chunks.push(current);
  return chunks;
}

/** An upper estimate of a sample's JSON: 32 bytes per value and the meta's own JSON (each at most 4 KiB). */
function sampleBytes(sample: Sample): number {
  let n = 48;
  for (const key in sample.values) n += key.length + 32;
  if (sample.meta) n += JSON.stringify(sample.meta).length;
  return n;
}

/** The raw text is bounded by parseBatch; errors are at most 21 of 2 × 256 characters. */
function rejectedRowBytes(row: RejectedRow): number {
  return 160 + (typeof row.raw === 'string' ? row.raw.length * 3 : JSON.stringify(row.raw ?? null).length) + row.errors.length * 540;
}

function systemIdOf(row: RejectedRow): string {
  return row.systemId ?? '';
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = groups.get(k);
    if (list) list.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}
