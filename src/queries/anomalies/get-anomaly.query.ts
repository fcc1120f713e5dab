import { z } from 'zod';
import { verdictSchema } from '../../events/anomaly-detected.event.js';
import { anomalyListItem } from './get-anomalies.query.js';

export const feedbackEntry = z
  .object({
    event_id: z.uuid(),
    actor: z.string().meta({ description: 'API key id that gave the verdict' }),
    verdict: verdictSchema,
    note: z.string().nullable(),
    recorded_at: z.string(),
  })
  .meta({ id: 'AnomalyFeedbackEntry' });

export const anomalyDetail = anomalyListItem
  .extend({
    votes: z
      .record(z.string(), z.object({ weight: z.number(), anomaly: z.boolean(), score: z.number() }))
      .meta({ description: "Each model's vote in the ensemble: its weight, whether it called the window anomalous, its score" }),
    source: z.enum(['saga', 'analysis']).meta({ description: 'saga: found live; analysis: found by a re-analysis of a range' }),
    recorded_at: z.string(),
    source_event_ids: z.array(z.uuid()).nullable().meta({ description: 'ReadingsIngested events whose samples made the window (null on rows projected before migration 0007, until a rebuild)' }),
    correlation_id: z.string().nullable(),
    feedback_history: z.array(feedbackEntry).meta({ description: 'Every verdict given, oldest first; the last one counts' }),
  })
  .meta({ id: 'AnomalyDetail' });
export type AnomalyDetail = z.infer<typeof anomalyDetail>;

export class GetAnomalyQuery {
  constructor(readonly anomalyId: string) {}
}
