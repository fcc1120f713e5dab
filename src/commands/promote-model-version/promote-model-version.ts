import { randomUUID } from 'node:crypto';
import type { EventStore, Position } from '../../event-store/event-store.js';
import { newEvent, upcast } from '../../events/event-registry.js';
import { MODEL_VERSION_PROMOTED, type ModelVersionPromotedData } from '../../events/model-version-promoted.event.js';
import { streams } from '../../events/streams.js';
import { decidePromotion, evolvePromotion, type PromoteModelVersion, type PromotionState } from './decide-promotion.js';

/**
 * Thin handler: folds the `models` stream, decides, appends with the expected revision (a concurrent promotion
 * makes the append fail instead of recording a wrong previousVersion).
 */
export async function promoteModelVersion(
  store: EventStore,
  command: PromoteModelVersion,
  meta: { actor: string; correlationId?: string },
): Promise<{ recorded: boolean; event?: ModelVersionPromotedData; position?: Position }> {
  const history = await store.readStream(streams.models);
  let state: PromotionState = new Map();
  for (const e of history) if (e.type === MODEL_VERSION_PROMOTED) state = evolvePromotion(state, upcast(e).data as ModelVersionPromotedData);
  const data = decidePromotion(command, state);
  if (!data) return { recorded: false };
  const expected = history.length ? history[history.length - 1]!.revision : 'no_stream';
  const appended = await store.append(
    streams.models,
    [newEvent(MODEL_VERSION_PROMOTED, randomUUID(), data, { correlationId: meta.correlationId ?? randomUUID(), actor: meta.actor, modelVersion: data.modelVersion })],
    expected,
  );
  return { recorded: true, event: data, position: appended.position };
}
