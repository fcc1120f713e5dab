import type { ColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Json<T = unknown> = ColumnType<T, string, string>;

/** Rows of migrations/0004_read_side.sql. Merged into `Tables` below so kysely and `Projection.tables` know them. */
export interface AnomalyTrendWindowsTable {
  system_id: string;
  model_version: string;
  source: 'live' | 'reprojection';
  equipment_id: string;
  window_start: Timestamp;
  window_end: Timestamp;
  is_anomaly: boolean;
  severity: string;
  affected_component: string | null;
  components: Json<Record<string, { condition?: number; degraded?: boolean; probability?: number }>>;
  score: number;
  event_id: string | null;
  feedback: string | null;
}

export interface AnomalyTrendHourlyTable {
  system_id: string;
  model_version: string;
  source: 'live' | 'reprojection';
  bucket: Timestamp;
  severity: string;
  component: string;
  anomalies: number;
}

export interface SystemEquipmentTable {
  system_id: string;
  equipment_id: string;
  first_reading_at: Timestamp;
  last_reading_at: Timestamp;
  samples: number;
}

export interface ActiveModelVersionsTable {
  profile: string;
  model_version: string;
  previous_version: string | null;
  promoted_at: Timestamp;
  event_id: string;
  actor: string | null;
}

declare module '../database/tables.js' {
  interface Tables {
    anomaly_trend_windows: AnomalyTrendWindowsTable;
    anomaly_trend_hourly: AnomalyTrendHourlyTable;
    system_equipment: SystemEquipmentTable;
    active_model_versions: ActiveModelVersionsTable;
  }
}
