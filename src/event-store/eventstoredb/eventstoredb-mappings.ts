import {
  ANY,
  NO_STREAM,
  STREAM_EXISTS,
  StreamNotFoundError,
  eventTypeFilter,
  excludeSystemEvents,
  streamNameFilter,
  type AppendStreamState,
  type Filter,
  type Position as EsdbPosition,
  type ResolvedEvent,
} from '@kurrent/kurrentdb-client';
import { eventPartitionKey, inSlot } from '../../events/partition-key.js';
import type { EventFilter, EventMetadata, ExpectedRevision, Position, RecordedEvent } from '../event-store.js';

/** Pure mappings between the port and the KurrentDB/EventStoreDB client. */
export type EsdbRecorded = NonNullable<ResolvedEvent['event']>;

/** "Unknown" (only from servers without positions on stream reads): as a checkpoint it means the start. */
export const START_POSITION: Position = Object.freeze({ commit: -1, prepare: -1 });

/** Commit/prepare are byte offsets in the transaction log: far below 2^53 for any realistic database. */
export const toPosition = (p: EsdbPosition): Position => ({ commit: Number(p.commit), prepare: Number(p.prepare) });
export const fromPosition = (p: Position): EsdbPosition => ({ commit: BigInt(p.commit), prepare: BigInt(p.prepare) });

export function toExpected(expected: ExpectedRevision): AppendStreamState {
  if (expected === 'any') return ANY;
  if (expected === 'no_stream' || expected === -1) return NO_STREAM;
  if (expected === 'stream_exists') return STREAM_EXISTS;
  return BigInt(expected);
}

/** Older servers answer stream reads without a log position (or with 2^64-1): treat both as unknown. */
const UNKNOWN = 2n ** 63n;
export const knownPosition = (p: EsdbPosition | undefined): EsdbPosition | undefined => (p && p.commit >= 0n && p.commit < UNKNOWN ? p : undefined);

/** Event ids are UUIDs: the server stores them as such and answers in lower case. */
export const sameId = (id: string) => id.toLowerCase();

/**
 * The metadata key that carries an event's partition key (src/events/partition-key.ts) in EventStoreDB, where there
 * is no column for it. The adapter owns it: written on append, read by the partition filter, and removed again from
 * what readers get, so metadata round-trips as on the PostgreSQL adapter (which stores the key in `partition_key`).
 */
export const PARTITION_KEY = 'partitionKey';

/** The metadata to store: the caller's, plus the partition key where the event has one. */
export function storedMetadata(data: unknown, metadata: EventMetadata): EventMetadata {
  const key = eventPartitionKey(data);
  const { [PARTITION_KEY]: _ignored, ...rest } = metadata;
  return key === null ? rest : { ...rest, [PARTITION_KEY]: key };
}

/**
 * The partition key of a stored event: the one in its metadata; for events appended before the key was written,
 * computed from the data as on append (the counterpart of migrations/0010's backfill: EventStoreDB rewrites nothing).
 */
export function storedPartitionKey(e: Partial<Pick<EsdbRecorded, 'metadata' | 'data' | 'isJson'>>): number | null {
  const key = (e.metadata as Record<string, unknown> | undefined)?.[PARTITION_KEY];
  if (typeof key === 'number' && Number.isInteger(key)) return key;
  return e.isJson ? eventPartitionKey(e.data) : null;
}

export function toRecorded(e: EsdbRecorded, position?: EsdbPosition): RecordedEvent {
  const pos = knownPosition(position ?? e.position);
  const { [PARTITION_KEY]: _key, ...metadata } = (e.metadata ?? {}) as Record<string, unknown>;
  return {
    eventId: e.id,
    type: e.type,
    streamId: e.streamId,
    revision: Number(e.revision),
    position: pos ? toPosition(pos) : { commit: -1, prepare: -1 },
    data: e.isJson ? e.data : Buffer.from(e.data as Uint8Array).toString('base64'),
    metadata: metadata as EventMetadata,
    createdAt: e.created.toISOString(),
  };
}

const isSystem = (e: Pick<EsdbRecorded, 'type' | 'streamId'>) => e.type.startsWith('$') || e.streamId.startsWith('$');

/** The client-side half of a filter: the part the server cannot apply (see serverFilter), and the partition. */
export function matches(
  e: Pick<EsdbRecorded, 'type' | 'streamId'> & Partial<Pick<EsdbRecorded, 'metadata' | 'data' | 'isJson'>>,
  filter: EventFilter | undefined,
): boolean {
  if (isSystem(e)) return false;
  if (filter?.streamPrefixes?.length && !filter.streamPrefixes.some((p) => e.streamId.startsWith(p))) return false;
  if (filter?.eventTypes?.length && !filter.eventTypes.includes(e.type)) return false;
  // Keyless events (promotions, analyses) reach every partition.
  if (filter?.partition && !inSlot(storedPartitionKey(e), filter.partition)) return false;
  return true;
}

/** Whether the filter drops events on this side that the server sends (pages are then read larger). */
export function filtersOnClient(filter: EventFilter | undefined): boolean {
  return Boolean((filter?.streamPrefixes?.length && filter.eventTypes?.length) || (filter?.partition && filter.partition.count > 1));
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The server-side filter of a read or subscription. EventStoreDB filters on stream name OR event type, not
 * both: stream prefixes go to the server (they select categories, the usual case), event types are then
 * checked here; event types alone go to the server as an exact-match regex. No filter still excludes
 * system events.
 */
export function serverFilter(filter: EventFilter | undefined, checkpointInterval: number): Filter {
  if (filter?.streamPrefixes?.length) return streamNameFilter({ prefixes: [...filter.streamPrefixes], checkpointInterval });
  if (filter?.eventTypes?.length) {
    return eventTypeFilter({ regex: `^(?:${filter.eventTypes.map(escapeRegex).join('|')})$`, checkpointInterval });
  }
  return excludeSystemEvents({ checkpointInterval });
}

export async function collect<T>(read: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  try {
    for await (const item of read) out.push(item);
  } catch (error) {
    if (error instanceof StreamNotFoundError) return [];
    throw error;
  }
  return out;
}

