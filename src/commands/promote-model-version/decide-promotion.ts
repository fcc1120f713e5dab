import type { ModelVersionPromotedData } from '../../events/model-version-promoted.event.js';

export interface PromoteModelVersion {
  profile: string;
  modelVersion: string;
  reason?: string;
  /** Versions the registry (models/manifest.json) holds: only those can be promoted. */
  registered: readonly string[];
}

/** What the `models` stream says: the promoted version per profile, folded from ModelVersionPromoted. */
export type PromotionState = ReadonlyMap<string, string>;

export function evolvePromotion(state: PromotionState, event: ModelVersionPromotedData): PromotionState {
  return new Map(state).set(event.profile, event.modelVersion);
}

export class PromotionRejected extends Error {}

/** Pure: the event to append, or none when that version is already the promoted one (idempotent). */
export function decidePromotion(command: PromoteModelVersion, state: PromotionState): ModelVersionPromotedData | null {
  if (!command.registered.includes(command.modelVersion)) {
    throw new PromotionRejected(
      `model version ${command.modelVersion} is not in the registry (known: ${command.registered.join(', ') || 'none'})`,
    );
  }
  const previous = state.get(command.profile) ?? null;
  if (previous === command.modelVersion) return null;
  return {
    profile: command.profile,
    modelVersion: command.modelVersion,
    previousVersion: previous,
    ...(command.reason ? { reason: command.reason } : {}),
  };
}
