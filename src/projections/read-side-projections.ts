import { ActiveModelVersionProjection } from './active-model-version.projection.js';
import { AnomalyTrendProjection } from './anomaly-trend.projection.js';
import type { Projection } from './projection.js';
import { SystemEquipmentProjection } from './system-equipment.projection.js';

/** Read models of issue #6 (trends, health, systems list, active model version). */
export function readSideProjections(): Projection[] {
  return [new AnomalyTrendProjection(), new SystemEquipmentProjection(), new ActiveModelVersionProjection()];
}
