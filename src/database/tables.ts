import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Json<T = unknown> = ColumnType<T, string, string>;

export interface EventsTable {
  global_position: Generated<number>;
  stream_id: string;
  stream_revision: number;
  event_id: string;
  type: string;
  data: Json;
  metadata: Json<Record<string, unknown>>;
  transaction_id: Generated<string>;
  created_at: Generated<Date>;
}

export interface StreamsTable {
  stream_id: string;
  revision: number;
}

export interface ProjectionCheckpointsTable {
  name: string;
  commit_position: string;
  prepare_position: string;
  updated_at: Timestamp;
}

export interface SensorReadingsTable {
  system_id: string;
  equipment_id: string;
  sensor_id: string;
  ts: Timestamp;
  v: number;
  unit: string | null;
  meta: Json<Record<string, unknown> | null> | null;
  event_id: string;
}

export interface QuarantinedRowsTable {
  batch_id: string;
  row_number: number;
  system_id: string | null;
  raw: Json;
  reasons: Json<{ field: string; message: string }[]>;
  event_id: string;
  quarantined_at: Timestamp;
}

export interface IdempotencyKeysTable {
  scope: string;
  key: string;
  request_hash: string;
  response: Json;
  created_at: Generated<Date>;
}

export interface Tables {
  events: EventsTable;
  streams: StreamsTable;
  projection_checkpoints: ProjectionCheckpointsTable;
  sensor_readings: SensorReadingsTable;
  quarantined_rows: QuarantinedRowsTable;
  idempotency_keys: IdempotencyKeysTable;
}
