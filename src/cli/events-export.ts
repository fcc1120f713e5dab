import type { Writable } from 'node:stream';
import { comparePositions, type EventStore, type Position, type RecordedEvent } from '../event-store/event-store.js';
import { chainLine, EXPORT_FORMAT, genesis, type ExportManifest } from './events-format.js';
import { progressBar } from './progress.js';

export interface ExportOptions {
  /** Only this stream (by revision); otherwise the whole log in global order. */
  stream?: string;
  pageSize?: number;
  progress?: boolean;
}

export interface ExportSummary {
  manifest: ExportManifest;
  /** The manifest line's chain: the fingerprint of the whole export. */
  chain: string;
}

/** Writes the export (see events-format.ts) to `out`, respecting back-pressure. Does not end `out`. */
export async function exportEvents(store: EventStore, out: Writable, options: ExportOptions = {}): Promise<ExportSummary> {
  const pageSize = options.pageSize ?? 1000;
  const write = async (line: string) => {
    if (!out.write(`${line}\n`)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  };
  const { pages, total } = options.stream ? await streamPages(store, options.stream, pageSize) : await logPages(store, pageSize);
  const bar = progressBar(total, options.stream ? `export ${options.stream}` : 'export', options.progress);

  let chain = genesis();
  let count = 0;
  let first: Position | null = null;
  let last: Position | null = null;
  const streams = new Set<string>();
  try {
    for await (const page of pages) {
      for (const e of page) {
        count++;
        streams.add(e.streamId);
        first ??= e.position;
        last = e.position;
        const line = chainLine(chain, {
          kind: 'event',
          seq: count,
          streamId: e.streamId,
          revision: e.revision,
          position: e.position,
          eventId: e.eventId,
          type: e.type,
          data: e.data,
          metadata: e.metadata,
          createdAt: e.createdAt,
        });
        chain = line.chain;
        await write(line.line);
      }
      const tail = page[page.length - 1];
      if (tail) bar.update(options.stream ? tail.revision + 1 : tail.position.prepare, { detail: `${count} events` });
    }
    const manifest: ExportManifest = {
      kind: 'manifest',
      format: EXPORT_FORMAT,
      adapter: store.adapter,
      exportedAt: new Date().toISOString(),
      stream: options.stream ?? null,
      count,
      streams: streams.size,
      firstPosition: first,
      lastPosition: last,
    };
    const line = chainLine(chain, manifest);
    await write(line.line);
    return { manifest, chain: line.chain };
  } finally {
    bar.stop();
  }
}

/** The whole log, page by page, up to the head seen at the start (events appended later are left out). */
async function logPages(store: EventStore, pageSize: number) {
  const head = await store.headPosition();
  async function* pages(): AsyncGenerator<RecordedEvent[]> {
    if (!head) return;
    let after: Position | undefined;
    for (;;) {
      const page = await store.readAll({ after, limit: pageSize });
      const upToHead = page.filter((e) => comparePositions(e.position, head) <= 0);
      if (upToHead.length > 0) yield upToHead;
      if (page.length < pageSize || upToHead.length < page.length) return;
      after = page[page.length - 1]!.position;
    }
  }
  // The head's prepare position is a fair measure of how far through the log a page is.
  return { pages: pages(), total: head?.prepare ?? 0 };
}

async function streamPages(store: EventStore, stream: string, pageSize: number) {
  const [newest] = await store.readStream(stream, { direction: 'backwards', limit: 1 });
  const lastRevision = newest?.revision ?? -1;
  async function* pages(): AsyncGenerator<RecordedEvent[]> {
    for (let from = 0; from <= lastRevision; from += pageSize) {
      const page = (await store.readStream(stream, { fromRevision: from, limit: pageSize })).filter((e) => e.revision <= lastRevision);
      if (page.length === 0) return;
      yield page;
    }
  }
  return { pages: pages(), total: lastRevision + 1 };
}
