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
 * The JSON text of a value (exactly JSON.stringify's, for values JSON.parse or the CSV reader produced) as a
 * bounded prefix, its size and hash — without recursion, so a value nested 10,000 deep costs a loop, not the
 * stack, and without holding the whole text.
 */
export function boundedJson(value: unknown, keep: number): BoundedText {
  if (typeof value === 'string') return boundedText(JSON.stringify(value), keep);
  const hash = createHash('sha256');
  let bytes = 0;
  let prefix = '';
  const emit = (text: string) => {
    hash.update(text);
    const n = Buffer.byteLength(text);
    if (bytes < keep) prefix += bytes + n <= keep ? text : cutUtf8(text, keep - bytes);
    bytes += n;
  };
  // A stack of pending work: a value to write, or a literal piece of punctuation.
  const stack: ({ value: unknown } | { text: string })[] = [{ value }];
  while (stack.length) {
    const item = stack.pop()!;
    if ('text' in item) {
      emit(item.text);
      continue;
    }
    const v = item.value;
    if (v === null || typeof v !== 'object') {
      emit(v === undefined || typeof v === 'function' || typeof v === 'symbol' ? 'null' : typeof v === 'bigint' ? String(v) : JSON.stringify(v));
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
  return { prefix, bytes, sha256: hash.digest('hex'), truncated: bytes > keep };
}

/** A text (a CSV line) as a bounded prefix, its size and hash. */
export function boundedText(text: string, keep: number): BoundedText {
  const bytes = Buffer.byteLength(text);
  return { prefix: bytes <= keep ? text : cutUtf8(text, keep), bytes, sha256: createHash('sha256').update(text).digest('hex'), truncated: bytes > keep };
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
