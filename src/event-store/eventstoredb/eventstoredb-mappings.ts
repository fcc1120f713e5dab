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

export function toRecorded(e: EsdbRecorded, position?: EsdbPosition): RecordedEvent {
  const pos = knownPosition(position ?? e.position);
  return {
    eventId: e.id,
    type: e.type,
    streamId: e.streamId,
    revision: Number(e.revision),
    position: pos ? toPosition(pos) : { commit: -1, prepare: -1 },
    data: e.isJson ? e.data : Buffer.from(e.data as Uint8Array).toString('base64'),
    metadata: (e.metadata ?? {}) as EventMetadata,
    createdAt: e.created.toISOString(),
  };
}

const isSystem = (e: Pick<EsdbRecorded, 'type' | 'streamId'>) => e.type.startsWith('$') || e.streamId.startsWith('$');

export function matches(e: Pick<EsdbRecorded, 'type' | 'streamId'>, filter: EventFilter | undefined): boolean {
  if (isSystem(e)) return false;
  if (filter?.streamPrefixes?.length && !filter.streamPrefixes.some((p) => e.streamId.startsWith(p))) return false;
  if (filter?.eventTypes?.length && !filter.eventTypes.includes(e.type)) return false;
  return true;
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

