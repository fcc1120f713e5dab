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

/** One row per sample (migrations/0006): values, units and meta keyed by sensor id. */
export interface SensorReadingsTable {
  system_id: string;
  equipment_id: string;
  ts: Timestamp;
  sensor_values: Json<Record<string, number>>;
  units: Json<Record<string, string>> | null;
  meta: Json<Record<string, Record<string, unknown>>> | null;
  event_id: string;
}

export interface QuarantinedRowsTable {
  batch_id: string;
  row_number: number;
  system_id: string | null;
  raw: Json;
  /** Size and SHA-256 of the row's whole text; raw holds its first 4 KiB when raw_truncated (0009). */
  raw_bytes: number | null;
  raw_sha256: string | null;
  raw_truncated: Generated<boolean>;
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

/** Inference saga state (migrations/0003_inference.sql). */
export interface InferenceWindowsTable {
  system_id: string;
  equipment_id: string;
  window_start: Timestamp;
  samples: Json;
  source_event_ids: Json<string[]>;
  correlation_id: string;
  causation_id: string;
  opened_at: Timestamp;
}

export interface InferenceEquipmentTable {
  system_id: string;
  equipment_id: string;
  last_closed_start: Timestamp | null;
  watermark: Timestamp | null;
  adaptive_state: Json | null;
  late_samples: number;
  dropped_windows: number;
  scored_windows: number;
}

export interface AnomalyResultsTable {
  event_id: string;
  system_id: string;
  equipment_id: string;
  window_start: Timestamp;
  window_end: Timestamp;
  model: string;
  model_version: string;
  score: number;
  severity: string;
  affected_component: string | null;
  components: Json;
  votes: Json;
  confidence: number;
  is_anomaly: boolean;
  source: 'saga' | 'analysis' | 'reprojection';
  feedback: string | null;
  /** AnomalyDetected v2 operatingConditions (null: not assessed) */
  operating_conditions: Json | null;
  recorded_at: Timestamp;
  /** migrations/0007: NULL on rows projected before it (until a rebuild). */
  source_event_ids: Json<string[]> | null;
  correlation_id: string | null;
}

/** Every verdict given on an anomaly, in log order (migrations/0007). */
export interface AnomalyFeedbackTable {
  event_id: string;
  anomaly_id: string;
  system_id: string;
  actor: string;
  verdict: 'confirmed' | 'false_positive';
  note: string | null;
  commit_position: ColumnType<string, number | string, number | string>;
  prepare_position: ColumnType<string, number | string, number | string>;
  recorded_at: Timestamp;
}

export interface AnalysesTable {
  analysis_id: string;
  system_id: string;
  range_from: Timestamp;
  range_to: Timestamp;
  mode: string;
  model_version: string;
  status: 'requested' | 'running' | 'completed' | 'failed';
  attempts: number;
  windows_total: number | null;
  windows_done: number;
  windows: number | null;
  anomalies: number | null;
  already_recorded: number | null;
  error: string | null;
  duration_ms: number | null;
  requested_at: Timestamp;
  updated_at: Timestamp;
}

export interface InferenceSagaModelTable {
  name: string;
  model_version: string;
}

export interface Tables {
  events: EventsTable;
  streams: StreamsTable;
  projection_checkpoints: ProjectionCheckpointsTable;
  sensor_readings: SensorReadingsTable;
  quarantined_rows: QuarantinedRowsTable;
  idempotency_keys: IdempotencyKeysTable;
  inference_windows: InferenceWindowsTable;
  inference_equipment: InferenceEquipmentTable;
  inference_saga_model: InferenceSagaModelTable;
  anomaly_results: AnomalyResultsTable;
  anomaly_feedback: AnomalyFeedbackTable;
  analyses: AnalysesTable;
}
