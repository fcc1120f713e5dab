export class GetSystemHealthQuery {
  constructor(readonly systemId: string) {}
}

export type HealthStatus = 'ok' | 'low' | 'medium' | 'high' | 'critical';

export interface ComponentHealth {
  status: HealthStatus;
  /** Predicted condition of the newest recent anomaly that names this component (e.g. cooler 20 %). */
  condition: number | null;
  probability: number | null;
  anomaly_id: string | null;
  window_start: string | null;
  model_version: string | null;
}

export interface EquipmentHealth {
  equipment_id: string;
  status: HealthStatus;
  last_reading_at: string;
  open_anomalies: number;
  components: Record<string, ComponentHealth>;
}

export interface SystemHealth {
  system_id: string;
  status: HealthStatus;
  generated_at: string;
  /** Anomalies count when their window ended at most this long before the equipment's newest reading. */
  lookback_seconds: number;
  equipment: EquipmentHealth[];
}
