import { z } from 'zod';

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

export const listSystemsResponse = z
  .object({
    items: z.array(
      z.object({
        system_id: z.string(),
        last_reading_at: z.string(),
        open_anomalies: z.number().int().nonnegative().meta({ description: 'Live anomalies without feedback yet' }),
        equipment: z.array(
          z.object({
            equipment_id: z.string(),
            first_reading_at: z.string(),
            last_reading_at: z.string(),
            samples: z.number().int().nonnegative(),
            open_anomalies: z.number().int().nonnegative(),
          }),
        ),
      }),
    ),
  })
  .meta({ id: 'SystemList' });
