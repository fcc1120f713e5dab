export class ListSystemsQuery {}

export interface SystemEquipmentItem {
  equipment_id: string;
  first_reading_at: string;
  last_reading_at: string;
  samples: number;
  open_anomalies: number;
}

export interface SystemItem {
  system_id: string;
  last_reading_at: string;
  /** Live anomalies without feedback yet (neither confirmed nor dismissed). */
  open_anomalies: number;
  equipment: SystemEquipmentItem[];
}
