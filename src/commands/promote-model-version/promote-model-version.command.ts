import { z } from 'zod';
import type { ModelVersionPromotedData } from '../../events/model-version-promoted.event.js';
import type { RequestContext } from '../ingest-readings/ingest-readings.command.js';

export const promoteParams = z.object({ version: z.string().min(1).max(128).meta({ description: 'A version of the registry' }) });
export const promoteBody = z
  .strictObject({ reason: z.string().max(2000).optional().meta({ description: 'Why (kept in the event)' }) })
  .meta({ id: 'PromoteModelVersionRequest' });
export const promoteResult = z
  .object({
    recorded: z.boolean().meta({ description: 'false when the version already was the promoted one' }),
    profile: z.string(),
    model_version: z.string(),
    previous_version: z.string().nullable(),
  })
  .meta({ id: 'PromoteModelVersionResult' });
export type PromoteResult = z.infer<typeof promoteResult>;

export class PromoteModelVersionCommand {
  constructor(
    readonly modelVersion: string,
    readonly reason: string | undefined,
    readonly context: RequestContext,
  ) {}
}

export type PromotionOutcome = { recorded: boolean; event?: ModelVersionPromotedData };
