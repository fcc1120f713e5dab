/**
 * PostgreSQL text and jsonb cannot hold U+0000 or unpaired UTF-16 surrogates: an event carrying one
 * cannot be appended. Valid rows with such text are quarantined (see reading-row.schema.ts); quarantined
 * raw input is stored with those characters replaced by U+FFFD, and its reason says so.
 */
const NUL_OR_LONE_SURROGATE_ESCAPE = /(?<!\\)((?:\\\\)*)\\u(0000|d[89a-f][0-9a-f]{2})/gi;

export const UNSTORABLE_TEXT = 'must not contain U+0000 or unpaired surrogate characters';

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

export function isStorableText(text: string): boolean {
  LONE_SURROGATE.lastIndex = 0;
  return !text.includes('\u0000') && !LONE_SURROGATE.test(text);
}

/** JSON text (as JSON.stringify writes it) holds no NUL and no lone surrogate. */
export function isStorableJson(json: string): boolean {
  NUL_OR_LONE_SURROGATE_ESCAPE.lastIndex = 0;
  return !NUL_OR_LONE_SURROGATE_ESCAPE.test(json);
}

/** A copy of `value` that PostgreSQL can store; too deeply nested to serialise → a short marker. */
export function storableValue(value: unknown): unknown {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    return '[not stored: nested too deeply to serialise]';
  }
  if (json === undefined) return null;
  return isStorableJson(json) ? value : JSON.parse(json.replace(NUL_OR_LONE_SURROGATE_ESCAPE, '$1\\ufffd'));
}

export function storableString(text: string): string {
  return isStorableText(text) ? text : text.replace(/\u0000/g, '\ufffd').replace(LONE_SURROGATE, '\ufffd');
}
