import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { comparePositions, type Position } from '../event-store/event-store.js';
import { EXPORT_FORMAT, genesis, nextChain, splitLine, type ExportedEvent, type ExportManifest } from './events-format.js';
import { progressBar } from './progress.js';

export interface VerifyReport {
  ok: boolean;
  problems: string[];
  events: number;
  streams: number;
  manifest: ExportManifest | undefined;
  /** The chain recomputed over the whole file (equals the manifest line's chain when intact). */
  chain: string;
}

const MAX_PROBLEMS = 100;

/**
 * Checks an export: every line's hash chain, event count against the manifest, revisions contiguous per
 * stream (from 0: exports always start at the beginning), strictly increasing global positions, unique
 * event ids, and the manifest's own totals. Reads line by line, so file size is not bounded by memory.
 */
export async function verifyEventsFile(path: string, options: { progress?: boolean } = {}): Promise<VerifyReport> {
  const problems: string[] = [];
  const problem = (message: string) => {
    if (problems.length < MAX_PROBLEMS) problems.push(message);
    else if (problems.length === MAX_PROBLEMS) problems.push('… more problems not shown');
  };
  const size = (await stat(path)).size;
  const bar = progressBar(size, 'verify', options.progress);
  const input = createReadStream(path, { encoding: 'utf8' });
  let bytes = 0;

  let chain = genesis();
  let lineNo = 0;
  let events = 0;
  let manifest: ExportManifest | undefined;
  let lastPosition: Position | undefined;
  const nextRevision = new Map<string, number>();
  const seenIds = new Set<string>();
  try {
    for await (const line of createInterface({ input, crlfDelay: Infinity })) {
      lineNo++;
      bytes += Buffer.byteLength(line) + 1;
      if (lineNo % 1000 === 0) bar.update(bytes, { detail: `${events} events` });
      if (line.trim() === '') {
        problem(`line ${lineNo}: empty line`);
        continue;
      }
      const { content, chain: stored } = splitLine(line);
      const expected = nextChain(chain, content);
      if (stored === undefined) problem(`line ${lineNo}: ${hasChainField(line) ? REWRITTEN : 'no chain field'}`);
      else if (stored !== expected) problem(`line ${lineNo}: checksum chain broken (expected ${expected.slice(0, 12)}…, found ${stored.slice(0, 12)}…)`);
      // Go on from the stored value so one altered line is reported once, not as every line after it.
      chain = stored ?? expected;

      let record: ExportedEvent | ExportManifest;
      try {
        record = JSON.parse(content) as ExportedEvent | ExportManifest;
      } catch {
        problem(`line ${lineNo}: not valid JSON`);
        continue;
      }
      if (manifest) problem(`line ${lineNo}: content after the manifest line`);
      if (record.kind === 'manifest') {
        manifest = record;
        continue;
      }
      if (record.kind !== 'event') {
        problem(`line ${lineNo}: unknown record kind ${JSON.stringify((record as { kind?: unknown }).kind)}`);
        continue;
      }
      events++;
      checkEvent(record, lineNo);
    }
  } finally {
    bar.stop();
  }

  function checkEvent(e: ExportedEvent, at: number): void {
    if (e.seq !== events) problem(`line ${at}: seq ${e.seq}, expected ${events} (a line is missing or added)`);
    if (typeof e.streamId !== 'string' || !Number.isInteger(e.revision) || typeof e.eventId !== 'string' || !e.position) {
      problem(`line ${at}: event without streamId, revision, eventId or position`);
      return;
    }
    const want = nextRevision.get(e.streamId) ?? 0;
    if (e.revision !== want) problem(`line ${at}: ${e.streamId} revision ${e.revision}, expected ${want} (revisions must be contiguous)`);
    nextRevision.set(e.streamId, e.revision + 1);
    if (lastPosition && comparePositions(lastPosition, e.position) >= 0) {
      problem(`line ${at}: position ${JSON.stringify(e.position)} not after ${JSON.stringify(lastPosition)} (global order)`);
    }
    lastPosition = e.position;
    if (seenIds.has(e.eventId)) problem(`line ${at}: event id ${e.eventId} appears twice`);
    seenIds.add(e.eventId);
  }

  if (!manifest) problem('no manifest line: the file is truncated or not an export');
  else {
    if (manifest.format !== EXPORT_FORMAT) problem(`manifest: unknown format ${JSON.stringify(manifest.format)}`);
    if (manifest.count !== events) problem(`manifest: count ${manifest.count}, file has ${events} events`);
    if (manifest.streams !== nextRevision.size) problem(`manifest: ${manifest.streams} streams, file has ${nextRevision.size}`);
    const last = lastPosition ?? null;
    if (JSON.stringify(manifest.lastPosition) !== JSON.stringify(last)) problem('manifest: last position does not match the last event');
  }
  return { ok: problems.length === 0, problems, events, streams: nextRevision.size, manifest, chain };
}

const REWRITTEN =
  'the line is not byte for byte as exported (re-serialised or edited: it has a chain field, but the chain covers the exact bytes the export wrote); verify the original file';

/** True when the line is JSON with a chain field somewhere other than where the export writes it (a JSON tool rewrote it). */
function hasChainField(line: string): boolean {
  try {
    const value = JSON.parse(line) as unknown;
    return typeof value === 'object' && value !== null && typeof (value as { chain?: unknown }).chain === 'string';
  } catch {
    return false;
  }
}
