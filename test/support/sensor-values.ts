import { sql, type Kysely } from 'kysely';

/** Number of sensor values in the sensor_readings read model (one row holds every sensor of one sample). */
export async function countSensorValues(db: Kysely<any>): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    select coalesce(sum((select count(*) from jsonb_object_keys(sensor_values))), 0)::int as n from sensor_readings`.execute(db);
  return rows[0]!.n;
}
