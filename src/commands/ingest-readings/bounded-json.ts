import { createHash } from 'node:crypto';

export interface BoundedText {
  /** The first `keep` bytes of the text at most (cut at a character boundary). */
  prefix: string;
  /** Its whole size in UTF-8 bytes. */
  bytes: number;
  /** SHA-256 (hex) of the whole text. */
  sha256: string;
  truncated: boolean;
}

/**
 * Above this many characters a string is written and hashed in slices, with a turn for the event loop between
 * them: the text of one 32 MiB row is half a second of CPU on this hardware, which would otherwise hold every
 * other request, /health/live included, for that long (issue #20's hostile suite measured it).
 */
const SLICE_CHARS = 1 << 20;
/** Values written between two turns for the event loop (a row of a million small values). */
const ITEMS_PER_TURN = 16_384;

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Where a slice of `text` starting at `from` ends: never between the two halves of a surrogate pair. */
function sliceEnd(text: string, from: number): number {
  const end = Math.min(from + SLICE_CHARS, text.length);
  const last = text.charCodeAt(end - 1);
  return end < text.length && last >= 0xd800 && last <= 0xdbff ? end - 1 : end;
}

/** A text written piece by piece: its size, its hash and its first `keep` bytes. */
class BoundedWriter {
  private readonly hash = createHash('sha256');
  private bytes = 0;
  private prefix = '';
  constructor(private readonly keep: number) {}

  /** One piece; pieces never split a surrogate pair (the hash reads each piece as UTF-8). */
  write(text: string): void {
    this.hash.update(text);
    const n = Buffer.byteLength(text);
    if (this.bytes < this.keep) this.prefix += this.bytes + n <= this.keep ? text : cutUtf8(text, this.keep - this.bytes);
    this.bytes += n;
  }

  /** A long text in slices, a turn for the event loop after each. */
  async writeLong(text: string, escape: (slice: string) => string = (t) => t): Promise<void> {
    for (let from = 0; from < text.length; ) {
      const end = sliceEnd(text, from);
      this.write(escape(text.slice(from, end)));
      from = end;
      if (from < text.length) await turn();
    }
  }

  /** A string as JSON.stringify writes it (its escapes depend on each character alone, so slices add up). */
  async writeJsonString(text: string): Promise<void> {
    if (text.length <= SLICE_CHARS) return this.write(JSON.stringify(text));
    this.write('"');
    await this.writeLong(text, (slice) => JSON.stringify(slice).slice(1, -1));
    this.write('"');
  }

  result(): BoundedText {
    return { prefix: this.prefix, bytes: this.bytes, sha256: this.hash.digest('hex'), truncated: this.bytes > this.keep };
  }
}

/**
 * The JSON text of a value (exactly JSON.stringify's, for values JSON.parse or the CSV reader produced) as a
 * bounded prefix, its size and hash — without recursion, so a value nested 10,000 deep costs a loop, not the
 * stack, without holding the whole text, and giving the event loop turns on a large one.
 */
export async function boundedJson(value: unknown, keep: number): Promise<BoundedText> {
  const out = new BoundedWriter(keep);
  // A stack of pending work: a value to write, or a literal piece of punctuation.
  const stack: ({ value: unknown } | { text: string })[] = [{ value }];
  let items = 0;
  while (stack.length) {
    if (++items % ITEMS_PER_TURN === 0) await turn();
    const item = stack.pop()!;
    if ('text' in item) {
      out.write(item.text);
      continue;
    }
    const v = item.value;
    if (typeof v === 'string') await out.writeJsonString(v);
    else if (v === null || typeof v !== 'object') {
      out.write(v === undefined || typeof v === 'function' || typeof v === 'symbol' ? 'null' : typeof v === 'bigint' ? String(v) : JSON.stringify(v));
    } else if (Array.isArray(v)) {
      const parts: ({ value: unknown } | { text: string })[] = [{ text: '[' }];
      v.forEach((e, i) => parts.push(...(i ? [{ text: ',' }] : []), { value: e === undefined ? null : e }));
      parts.push({ text: ']' });
      for (let i = parts.length - 1; i >= 0; i--) stack.push(parts[i]!);
    } else {
      const parts: ({ value: unknown } | { text: string })[] = [{ text: '{' }];
      let first = true;
      for (const [k, e] of Object.entries(v)) {
        if (e === undefined || typeof e === 'function' || typeof e === 'symbol') continue;
        parts.push({ text: `${first ? '' : ','}${JSON.stringify(k)}:` }, { value: e });
        first = false;
      }
      parts.push({ text: '}' });
      for (let i = parts.length - 1; i >= 0; i--) stack.push(parts[i]!);
    }
  }
  return out.result();
}

/** A text (a CSV line) as a bounded prefix, its size and hash. */
export async function boundedText(text: string, keep: number): Promise<BoundedText> {
  const out = new BoundedWriter(keep);
  await out.writeLong(text);
  return out.result();
}

/**
 * A lower bound of a value's JSON length that stops counting past `limit`: a meta object bigger or deeper than
 * any allowed one is refused before a recursive check (zod, JSON.stringify) could overflow the stack.
 */
export function jsonLengthExceeds(value: unknown, limit: number): boolean {
  let length = 0;
  const stack: unknown[] = [value];
  while (stack.length) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object') length += typeof v === 'string' ? v.length + 2 : String(v).length;
    else if (Array.isArray(v)) {
      length += 2 + Math.max(0, v.length - 1);
      for (const e of v) stack.push(e);
    } else {
      length += 2;
      for (const [k, e] of Object.entries(v)) {
        length += k.length + 4;
        stack.push(e);
      }
    }
    if (length > limit) return true;
  }
  return false;
}

/** At most `maxBytes` UTF-8 bytes of `text`, never splitting a character. */
function cutUtf8(text: string, maxBytes: number): string {
  if (maxBytes <= 0) return '';
  let out = Buffer.from(text.slice(0, maxBytes)).subarray(0, maxBytes).toString('utf8');
  // a character cut in half decodes to U+FFFD at the end: drop it
  if (out.endsWith('\ufffd') && !text.slice(0, out.length).endsWith('\ufffd')) out = out.slice(0, -1);
  return out;
}
