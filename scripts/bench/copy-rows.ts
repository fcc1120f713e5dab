import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import copyStreams from 'pg-copy-streams';

/** Streams text-format COPY rows (each ending in a newline) through `copySql` on a connection of its own. */
export async function copyRows(url: string, copySql: string, rows: Iterable<string>): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const stream = client.query(copyStreams.from(copySql));
    // ~2,000 rows per chunk: COPY throughput drops sharply with one chunk per row (DESIGN.md §9).
    async function* chunks() {
      let buf: string[] = [];
      for (const r of rows) {
        buf.push(r);
        if (buf.length >= 2000) {
          yield buf.join('');
          buf = [];
        }
      }
      if (buf.length) yield buf.join('');
    }
    await pipeline(Readable.from(chunks()), stream);
  } finally {
    await client.end();
  }
}
