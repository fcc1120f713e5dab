import { z } from 'zod';

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

const status = z.enum(['ok', 'low', 'medium', 'high', 'critical']);

export const systemHealthResponse = z
  .object({
    system_id: z.string(),
    status,
    generated_at: z.string(),
    lookback_seconds: z.number().int(),
    equipment: z.array(
      z.object({
        equipment_id: z.string(),
        status,
        last_reading_at: z.string(),
        open_anomalies: z.number().int().nonnegative(),
        components: z.record(
          z.string(),
          z.object({
            status,
            condition: z.number().nullable(),
            probability: z.number().nullable(),
            anomaly_id: z.string().nullable(),
            window_start: z.string().nullable(),
            model_version: z.string().nullable(),
          }),
        ),
      }),
    ),
  })
  .meta({ id: 'SystemHealth' });
