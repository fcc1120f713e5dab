import type { SensorRange } from './detect-input.js';
import type { PackedWindow } from './detect-request.js';
import { isIdentifier, isTimestamp, MAX_SAMPLES } from './detect.schema.js';

/**
 * The first tier of detect's window fast path: reads a window request straight from its JSON text into the
 * packed form, without building the object tree JSON.parse builds (60 sample objects, 60 value records, 1,020
 * numbers: most of a window's parse time, and garbage for the collector).
 *
 * It reads only the plain form clients send: an object with `samples` and optionally `system_id` /
 * `equipment_id`, each sample `{ts, values}` in either order, each key once, strings of printable ASCII without
 * escapes, JSON whitespace anywhere between tokens, sensor keys in any order. It checks what packWindowRequest
 * checks (identifiers, timestamps, 1..3600 samples, every sensor once, finite and in range). For anything else
 * it returns null and the body goes on to packWindowRequest (JSON.parse), so scanning only ever speeds up an
 * answer: whatever it packs, packWindowRequest packs identically (differential test in the spec).
 *
 * Numbers: digits < 2^53 with a decimal exponent within ±22 are converted exactly as JSON.parse does (one
 * correctly rounded multiplication or division by an exact power of ten, Clinger's fast path); any other
 * number is handed to Number(), which reads JSON's number grammar as JSON.parse does.
 */
export function scanWindowRequest(json: string, sensors: readonly SensorRange[]): PackedWindow | null {
  const profile = profileOf(sensors);
  return profile && new Scanner(json, profile).body();
}

// the bytes the grammar names, as char codes
const [QUOTE, BACKSLASH, COMMA, COLON, MINUS, PLUS, DOT, ZERO, NINE, OPEN_OBJECT, CLOSE_OBJECT, OPEN_ARRAY, CLOSE_ARRAY] = Array.from(
  '"\\,:-+.09{}[]',
  (c) => c.charCodeAt(0),
) as [number, number, number, number, number, number, number, number, number, number, number, number, number];
const END = -1;

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const SAMPLES = ascii('samples');
const SYSTEM_ID = ascii('system_id');
const EQUIPMENT_ID = ascii('equipment_id');
const TS = ascii('ts');
const VALUES = ascii('values');
const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k); // exact doubles up to 1e22
const TWO_53 = 2 ** 53;

/** A profile's sensors as the scanner reads them (made once per sensor list). */
interface Profile {
  keys: Uint8Array[];
  min: Float64Array;
  max: Float64Array;
}
const profiles = new WeakMap<readonly SensorRange[], Profile | null>();
/** null when a sensor id is not plain printable ASCII: such a profile's windows all go to JSON.parse. */
function profileOf(sensors: readonly SensorRange[]): Profile | null {
  if (!profiles.has(sensors))
    profiles.set(
      sensors,
      sensors.every((s) => /^[\x20-\x7e]+$/.test(s.id) && !/["\\]/.test(s.id))
        ? {
            keys: sensors.map((s) => ascii(s.id)),
            min: Float64Array.from(sensors, (s) => s.min),
            max: Float64Array.from(sensors, (s) => s.max),
          }
        : null,
    );
  return profiles.get(sensors) ?? null;
}

const isDigit = (c: number) => c >= ZERO && c <= NINE;

class Scanner {
  /** the next character to read */
  private i = 0;
  /** where the last string read starts (after its opening quote) */
  private start = 0;

  constructor(
    private readonly b: string,
    private readonly profile: Profile,
  ) {}

  body(): PackedWindow | null {
    if (this.next() !== OPEN_OBJECT) return null;
    this.i++;
    let window: PackedWindow | null = null;
    let systemId = false;
    let equipmentId = false;
    for (;;) {
      const end = this.string();
      if (end < 0 || !this.colon()) return null;
      if (this.is(end, SAMPLES) && !window) {
        if (!(window = this.samples())) return null;
      } else if ((this.is(end, SYSTEM_ID) && !systemId) || (this.is(end, EQUIPMENT_ID) && !equipmentId)) {
        if (this.is(end, SYSTEM_ID)) systemId = true;
        else equipmentId = true;
        const idEnd = this.string();
        if (idEnd < 0 || !isIdentifier(this.b.slice(this.start, idEnd))) return null;
      } else return null;
      const more = this.more(CLOSE_OBJECT);
      if (more === null) return null;
      if (!more) break;
    }
    return this.next() === END ? window : null;
  }

  private samples(): PackedWindow | null {
    if (this.next() !== OPEN_ARRAY) return null;
    this.i++;
    const S = this.profile.keys.length;
    const ts: string[] = [];
    let values = new Float64Array(64 * S);
    const seen = new Int32Array(S); // seen[j] === n + 1: sensor j given in sample n
    for (let n = 0; ; n++) {
      if (n === MAX_SAMPLES || this.next() !== OPEN_OBJECT) return null;
      this.i++;
      if ((n + 1) * S > values.length) {
        const grown = new Float64Array(values.length * 2);
        grown.set(values);
        values = grown;
      }
      let stamp: string | undefined;
      let valuesRead = false;
      for (;;) {
        const end = this.string();
        if (end < 0 || !this.colon()) return null;
        if (this.is(end, TS) && stamp === undefined) {
          const tsEnd = this.string();
          if (tsEnd < 0 || !isTimestamp((stamp = this.b.slice(this.start, tsEnd)))) return null;
        } else if (this.is(end, VALUES) && !valuesRead) {
          if (!this.values(values, n * S, seen, n + 1)) return null;
          valuesRead = true;
        } else return null;
        const more = this.more(CLOSE_OBJECT);
        if (more === null) return null;
        if (!more) break;
      }
      if (stamp === undefined || !valuesRead) return null;
      ts.push(stamp);
      const more = this.more(CLOSE_ARRAY);
      if (more === null) return null;
      if (!more) return { ts, values: values.slice(0, (n + 1) * S) };
    }
  }

  /** One sample's values into out[at + j] in sensor order: every sensor once, nothing else, finite and in range. */
  private values(out: Float64Array, at: number, seen: Int32Array, mark: number): boolean {
    if (this.next() !== OPEN_OBJECT) return false;
    this.i++;
    const { profile } = this;
    const { keys, min, max } = profile;
    const S = keys.length;
    let count = 0;
    for (;;) {
      let j = -1;
      // keys in profile order and written `"PS1":` are the usual case
      if (this.next() === QUOTE && count < S && this.keyAt(this.i + 1, keys[count]!)) {
        j = count;
        this.i += keys[count]!.length + 3;
      } else {
        const end = this.string();
        if (end < 0 || !this.colon()) return false;
        for (let k = 0; j < 0 && k < S; k++) if (this.is(end, keys[k]!)) j = k;
      }
      if (j < 0 || seen[j] === mark) return false;
      seen[j] = mark;
      this.next();
      const v = this.number();
      if (!(v >= min[j]! && v <= max[j]!) || !Number.isFinite(v)) return false;
      out[at + j] = v;
      count++;
      const more = this.more(CLOSE_OBJECT);
      if (!more) return more === false && count === S;
    }
  }

  /** After a member or element: true after a comma, false after `close`, null for anything else. */
  private more(close: number): boolean | null {
    const c = this.next();
    this.i++;
    return c === COMMA ? true : c === close ? false : null;
  }

  /** Skips whitespace; the character code there, or END. */
  private next(): number {
    const b = this.b;
    let i = this.i;
    while (i < b.length) {
      const c = b.charCodeAt(i);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      i++;
    }
    this.i = i;
    return i < b.length ? b.charCodeAt(i) : END;
  }

  private colon(): boolean {
    if (this.next() !== COLON) return false;
    this.i++;
    this.next();
    return true;
  }

  /**
   * A string of printable ASCII without escapes at the next token: sets `start` to its first character and returns
   * the index of its closing quote (the reader moves past it), or -1 for anything else.
   */
  private string(): number {
    if (this.next() !== QUOTE) return -1;
    const b = this.b;
    let i = this.i + 1;
    this.start = i;
    for (; i < b.length; i++) {
      const c = b.charCodeAt(i);
      if (c === QUOTE) {
        this.i = i + 1;
        return i;
      }
      if (c < 0x20 || c > 0x7e || c === BACKSLASH) return -1;
    }
    return -1;
  }

  /** Whether `key` followed by `":` starts at i (a key as clients usually write it, opening quote before i). */
  private keyAt(i: number, key: Uint8Array): boolean {
    const b = this.b;
    for (let k = 0; k < key.length; k++, i++) if (b.charCodeAt(i) !== key[k]) return false;
    return b.charCodeAt(i) === QUOTE && b.charCodeAt(i + 1) === COLON;
  }

  /** Whether the last string read (start..end) is `key`. */
  private is(end: number, key: Uint8Array): boolean {
    if (end - this.start !== key.length) return false;
    const b = this.b;
    for (let k = 0, i = this.start; k < key.length; k++, i++) if (b.charCodeAt(i) !== key[k]) return false;
    return true;
  }

  /** A JSON number at the reader, or NaN when there is none. */
  private number(): number {
    const b = this.b;
    const start = this.i;
    let i = start;
    let c = b.charCodeAt(i);
    const negative = c === MINUS;
    if (negative) c = b.charCodeAt(++i);
    let m = 0;
    let e = 0;
    if (c === ZERO) c = b.charCodeAt(++i);
    else if (c > ZERO && c <= NINE)
      do {
        m = m * 10 + (c - ZERO);
        c = b.charCodeAt(++i);
      } while (isDigit(c));
    else return Number.NaN;
    if (c === DOT) {
      c = b.charCodeAt(++i);
      if (!isDigit(c)) return Number.NaN;
      do {
        m = m * 10 + (c - ZERO);
        e--;
        c = b.charCodeAt(++i);
      } while (isDigit(c));
    }
    if (c === 0x65 || c === 0x45) {
      c = b.charCodeAt(++i);
      let sign = 1;
      if (c === PLUS || c === MINUS) {
        if (c === MINUS) sign = -1;
        c = b.charCodeAt(++i);
      }
      if (!isDigit(c)) return Number.NaN;
      let x = 0;
      do {
        if (x < 1e6) x = x * 10 + (c - ZERO);
        c = b.charCodeAt(++i);
      } while (isDigit(c));
      e += sign * x;
    }
    this.i = i;
    // m is exact while below 2^53 (each step m * 10 + d stays an integer a double holds)
    if (m < TWO_53 && e >= -22 && e <= 22) {
      const v = e < 0 ? m / POW10[-e]! : m * POW10[e]!;
      return negative ? -v : v;
    }
    return Number(this.b.slice(start, i));
  }
}
