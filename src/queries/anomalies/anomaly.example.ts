import type { z } from 'zod';
import type { anomalyListItem } from './get-anomalies.query.js';

/** One anomaly as the list and the detail show it: the OpenAPI examples of both routes start from it. */
export const anomalyListItemExample: z.infer<typeof anomalyListItem> = {
  event_id: '5b1f0c7e-2a4d-5e8f-9b3c-1d2e3f4a5b6c',
  system_id: 'rig-1',
  equipment_id: 'press-7',
  window_start: '2024-05-01T10:03:00.000Z',
  window_end: '2024-05-01T10:04:00.000Z',
  score: 0.93,
  severity: 'critical',
  affected_component: 'cooler',
  components: {
    cooler: { condition: 3, degraded: true, probability: 0.97 },
    valve: { condition: 100, degraded: false, probability: 0.02 },
    pump: { condition: 0, degraded: false, probability: 0.01 },
    accumulator: { condition: 130, degraded: false, probability: 0.04 },
  },
  confidence: 0.97,
  model_version: 'hydraulic-17-1.2.1',
  feedback: null,
  operating_conditions: { regime: 'cooler-3', coverage: 0.41, has_baseline: true, unfamiliar: false },
};
