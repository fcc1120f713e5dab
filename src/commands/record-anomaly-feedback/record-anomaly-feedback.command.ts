import { z } from 'zod';
import { verdictSchema } from '../../events/anomaly-detected.event.js';
import type { RequestContext } from '../ingest-readings/ingest-readings.command.js';
import type { Verdict } from './decide-feedback.js';

export const feedbackBody = z
  .strictObject({
    verdict: verdictSchema,
    note: z.string().max(2000).optional().meta({ description: 'Free text kept in the event (at most 2,000 characters)' }),
  })
  .meta({ id: 'AnomalyFeedbackRequest' });

export const feedbackResult = z
  .object({
    recorded: z.boolean().meta({ description: 'false when this key had already given this verdict (a no-op)' }),
    anomaly_id: z.uuid(),
    verdict: verdictSchema,
    event_id: z.uuid().nullable().meta({ description: 'The AnomalyFeedbackRecorded event appended; null when nothing was recorded' }),
  })
  .meta({ id: 'AnomalyFeedbackResult' });
export type FeedbackResult = z.infer<typeof feedbackResult>;

export class RecordAnomalyFeedbackCommand {
  constructor(
    readonly anomalyId: string,
    readonly verdict: Verdict,
    readonly note: string | undefined,
    readonly context: RequestContext,
  ) {}
}
