import { parse as parseCsv } from 'csv-parse/sync';
import { QUARANTINE_RAW_MAX_BYTES, type RowError } from '../../events/readings-quarantined.event.js';
import { boundedJson, boundedText, jsonLengthExceeds } from './bounded-json.js';
import { READING_FIELDS, readingRowSchema, type ReadingRow } from './reading-row.schema.js';
import { RowPrecheck } from './row-precheck.js';
import { storableString, storableValue } from './storable-text.js';

export type IngestSource = 'json' | 'csv';

export interface ValidRow extends ReadingRow {
  row: number;
}

export interface RejectedRow {
  row: number;
  /** As sent until parseBatch bounds it: then the row, or the first QUARANTINE_RAW_MAX_BYTES of its text. */
  raw: unknown;
  /** Size and SHA-256 of the row's whole text (set by parseBatch). */
  rawBytes?: number;
  rawSha256?: string;
  rawTruncated?: boolean;
  errors: RowError[];
  /** The row's system id when that field itself was valid: the quarantine is filed under that system. */
  systemId?: string;
}

export interface ParsedBatch {
  valid: ValidRow[];
  rejected: RejectedRow[];
}

/** A body that cannot be read as a batch at all (as opposed to bad rows, which are quarantined). */
export class BatchFormatError extends Error {
  constructor(
    message: string,
    readonly field = 'body',
  ) {
    super(message);
  }
}

export class BatchTooLargeError extends Error {
  constructor(readonly rows: number, readonly maxRows: number) {
    super(`batch has ${rows} rows; at most ${maxRows} are accepted per request`);
  }
}

/** Physical range per known sensor id (the active model version's profile, the same ranges detect enforces). */
export type SensorRanges = ReadonlyMap<string, { min: number; max: number; unit: string }>;

const NO_RANGES: SensorRanges = new Map();

function validate(rows: { row: number; input: unknown; raw: unknown }[], ranges: SensorRanges): ParsedBatch {
  const valid: ValidRow[] = [];
  const rejected: RejectedRow[] = [];
  const precheck = new RowPrecheck();
  const accept = (reading: ReadingRow, row: number, raw: unknown) => {
    const range = ranges.get(reading.sensor_id);
    // A sensor without a known range keeps the plain rule (any finite number): new sensors must not be lost.
    if (range && !(reading.v >= range.min && reading.v <= range.max)) {
      const message = `must be between ${range.min} and ${range.max} ${range.unit} for sensor ${reading.sensor_id}`;
      rejected.push({ row, raw, systemId: reading.system_id, errors: [{ field: 'v', message }] });
    } else valid.push({ ...reading, row });
  };
  for (const { row, input, raw } of rows) {
    const plain = precheck.accept(input);
    if (plain) {
      accept(plain, row, raw);
      continue;
    }
    // A meta far over its 4 KiB (or nested thousands deep) is refused before the schema walks it recursively.
    const oversized = hugeMeta(input);
    const result = readingRowSchema.safeParse(oversized ? { ...(input as object), meta: {} } : input);
    if (result.success && !oversized) accept(result.data, row, raw);
    else {
      const issues = result.success ? [] : result.error.issues;
      rejected.push({
        row,
        raw,
        systemId: usableSystemId(input, issues),
        errors: [
          ...(oversized ? [{ field: 'meta', message: 'must be at most 4 KiB of JSON' }] : []),
          ...issues.flatMap((issue) =>
            issue.code === 'unrecognized_keys'
              ? issue.keys.map((key) => ({ field: key, message: 'is not a known column' }))
              : [{ field: issue.path.map(String).join('.') || 'row', message: issue.message }],
          ),
        ],
      });
    }
  }
  return { valid, rejected };
}

function hugeMeta(input: unknown): boolean {
  const meta = input && typeof input === 'object' ? (input as { meta?: unknown }).meta : undefined;
  return !!meta && typeof meta === 'object' && jsonLengthExceeds(meta, 4096);
}

function usableSystemId(input: unknown, issues: { path: PropertyKey[] }[]): string | undefined {
  const value = input && typeof input === 'object' ? (input as { system_id?: unknown }).system_id : undefined;
  if (typeof value !== 'string' || issues.some((i) => i.path[0] === 'system_id')) return undefined;
  return value;
}

/** JSON: an array of rows, or `{ "readings": [rows] }`. */
export function parseJsonBatch(body: unknown, maxRows: number, ranges: SensorRanges = NO_RANGES): ParsedBatch {
  const rows = Array.isArray(body)
    ? body
    : body && typeof body === 'object' && Array.isArray((body as { readings?: unknown }).readings)
      ? (body as { readings: unknown[] }).readings
      : undefined;
  if (!rows) throw new BatchFormatError('must be a JSON array of readings or an object {"readings": [...]}');
  if (rows.length === 0) throw new BatchFormatError('contains no readings', 'readings');
  if (rows.length > maxRows) throw new BatchTooLargeError(rows.length, maxRows);
  return validate(rows.map((input, i) => ({ row: i + 1, input, raw: input })), ranges);
}

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/** CSV with a header row naming the columns. Cells are strings: `v` must look like a number, `meta` like a JSON object. */
export function parseCsvBatch(text: string, maxRows: number, ranges: SensorRanges = NO_RANGES): ParsedBatch {
  const skipped: RejectedRow[] = [];
  let records: { record: string[]; raw?: string }[];
  try {
    records = parseCsv(text, {
      bom: true,
      trim: true,
      skip_empty_lines: true,
      relax_column_count: true,
      raw: true,
      skip_records_with_error: true,
      on_skip: (err, raw) => {
        skipped.push({ row: -1, raw: raw ?? null, errors: [{ field: 'row', message: err?.message ?? 'unreadable CSV' }] });
        return undefined;
      },
    }) as unknown as typeof records;
  } catch (error) {
    throw new BatchFormatError(`is not readable CSV: ${(error as Error).message}`);
  }
  const [header, ...data] = records;
  if (!header) throw new BatchFormatError('has no header row');
  const columns = header.record.map((c) => c.trim());
  if (!columns.some((c) => (READING_FIELDS as string[]).includes(c))) {
    throw new BatchFormatError(`names none of the columns ${READING_FIELDS.join(', ')}`, 'header');
  }
  if (data.length + skipped.length === 0) throw new BatchFormatError('contains no data rows');
  if (data.length + skipped.length > maxRows) throw new BatchTooLargeError(data.length + skipped.length, maxRows);

  const rows: { row: number; input: unknown; raw: unknown }[] = [];
  const shapeErrors: RejectedRow[] = [];
  data.forEach(({ record, raw: text }, i) => {
    const row = i + 1;
    const raw = text?.replace(/\r?\n$/, '') ?? record.join(',');
    if (record.length > columns.length) {
      shapeErrors.push({ row, raw, errors: [{ field: 'row', message: `has ${record.length} cells but the header has ${columns.length}` }] });
      return;
    }
    const input: Record<string, unknown> = {};
    const cellErrors: RowError[] = [];
    columns.forEach((column, c) => {
      const cell = record[c];
      if (cell === undefined || cell === '') return;
      if (column === 'v') input.v = NUMBER.test(cell) ? Number(cell) : cell;
      else if (column === 'meta') {
        try {
          input.meta = JSON.parse(cell);
        } catch {
          cellErrors.push({ field: 'meta', message: 'must be a JSON object' });
        }
      } else input[column] = cell;
    });
    if (cellErrors.length) {
      const checked = validate([{ row, input, raw }], ranges).rejected[0];
      shapeErrors.push({ row, raw, systemId: checked?.systemId, errors: [...cellErrors, ...(checked?.errors ?? [])] });
      return;
    }
    rows.push({ row, input, raw });
  });
  const result = validate(rows, ranges);
  // Records csv-parse could not read get row numbers after the readable ones: it does not say where they were.
  skipped.forEach((s, i) => (s.row = data.length + i + 1));
  result.rejected.push(...shapeErrors, ...skipped);
  result.rejected.sort((a, b) => a.row - b.row);
  return result;
}

export async function parseBatch(source: IngestSource, body: unknown, maxRows: number, ranges: SensorRanges = NO_RANGES): Promise<ParsedBatch> {
  let batch: ParsedBatch;
  if (source === 'csv') {
    if (typeof body !== 'string') throw new BatchFormatError('must be text/csv');
    batch = parseCsvBatch(body, maxRows, ranges);
  } else batch = parseJsonBatch(body, maxRows, ranges);
  // Quarantined input is kept as sent up to QUARANTINE_RAW_MAX_BYTES of its text (beyond: that prefix, with the
  // whole text's size and hash), except what PostgreSQL cannot store (storable-text.ts).
  for (const r of batch.rejected) {
    const bounded = source === 'csv' && typeof r.raw === 'string' ? await boundedText(r.raw, QUARANTINE_RAW_MAX_BYTES) : await boundedJson(r.raw, QUARANTINE_RAW_MAX_BYTES);
    r.raw = bounded.truncated ? storableString(bounded.prefix) : storableValue(r.raw);
    r.rawBytes = bounded.bytes;
    r.rawSha256 = bounded.sha256;
    r.rawTruncated = bounded.truncated;
    r.errors = boundErrors(r.errors);
  }
  return batch;
}

const MAX_ERRORS_PER_ROW = 20;
const MAX_ERROR_TEXT = 256;

/** A row with 100,000 unknown columns gets 20 reasons and a count, each at most 256 characters. */
function boundErrors(errors: RowError[]): RowError[] {
  const cut = (t: string) => storableString(t.length > MAX_ERROR_TEXT ? `${t.slice(0, MAX_ERROR_TEXT)}…` : t);
  const kept = errors.slice(0, MAX_ERRORS_PER_ROW).map((e) => ({ field: cut(e.field), message: cut(e.message) }));
  if (errors.length > MAX_ERRORS_PER_ROW) kept.push({ field: 'row', message: `and ${errors.length - MAX_ERRORS_PER_ROW} more errors` });
  return kept;
}
