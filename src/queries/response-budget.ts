/**
 * Most bytes of JSON one page of a list answers with (besides its count limit): a page ends early rather than
 * grow with what clients stored (a 32 MiB quarantined row made /quarantine fail with `Invalid string length`).
 */
export const RESPONSE_MAX_BYTES = 4 * 1024 * 1024;

/** The leading items whose JSON fits the budget; always the first one (each item is bounded on its own). */
export function withinBudget<T>(items: readonly T[], budget = RESPONSE_MAX_BYTES): T[] {
  const out: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const n = Buffer.byteLength(JSON.stringify(item) ?? '');
    if (out.length && bytes + n > budget) break;
    out.push(item);
    bytes += n;
  }
  return out;
}
