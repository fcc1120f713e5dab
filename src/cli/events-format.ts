import { createHash } from 'node:crypto';
import type { EventMetadata, Position } from '../event-store/event-store.js';

/**
 * The audit export: NDJSON, one stored event per line (as stored: never upcast), then one manifest line.
 * Every line ends in `"chain":"<sha256>"`, where chain(n) = sha256(chain(n-1) + "\n" + the line without its
 * chain field) and chain(0) = sha256(FORMAT). Changing, dropping, adding or reordering any line breaks the
 * chain from there on; the manifest's chain is the fingerprint of the whole file (keep it with the audit
 * record: anyone can recompute a chain, so it proves integrity only against a fingerprint stored elsewhere).
 */
export const EXPORT_FORMAT = 'anomaly-platform.events/1';

export interface ExportedEvent {
  kind: 'event';
  /** 1-based line number among the event lines. */
  seq: number;
  streamId: string;
  revision: number;
  position: Position;
  eventId: string;
  type: string;
  data: unknown;
  metadata: EventMetadata;
  createdAt: string;
}

export interface ExportManifest {
  kind: 'manifest';
  format: typeof EXPORT_FORMAT;
  adapter: string;
  exportedAt: string;
  /** Set when only one stream was exported. */
  stream: string | null;
  count: number;
  streams: number;
  firstPosition: Position | null;
  lastPosition: Position | null;
}

export const genesis = (): string => createHash('sha256').update(EXPORT_FORMAT).digest('hex');

export function nextChain(previous: string, content: string): string {
  return createHash('sha256').update(previous).update('\n').update(content).digest('hex');
}

/** Serialises a record and appends its chain field; returns the line (without newline) and the new chain. */
export function chainLine(previous: string, record: ExportedEvent | ExportManifest): { line: string; chain: string } {
  const content = JSON.stringify(record);
  const chain = nextChain(previous, content);
  return { line: `${content.slice(0, -1)},"chain":"${chain}"}`, chain };
}

const CHAIN_SUFFIX = /,"chain":"([0-9a-f]{64})"}$/;

/** Splits a line into the hashed content and its stored chain value (undefined when there is none). */
export function splitLine(line: string): { content: string; chain: string | undefined } {
  const match = CHAIN_SUFFIX.exec(line);
  if (!match) return { content: line, chain: undefined };
  return { content: `${line.slice(0, match.index)}}`, chain: match[1] };
}
