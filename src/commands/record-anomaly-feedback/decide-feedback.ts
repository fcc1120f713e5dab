import { v5 as uuidv5 } from 'uuid';
import type { AnomalyFeedbackRecordedData } from '../../events/anomaly-detected.event.js';

export type Verdict = AnomalyFeedbackRecordedData['verdict'];

export interface RecordAnomalyFeedback {
  anomalyId: string;
  systemId: string;
  equipmentId?: string;
  actor: string;
  verdict: Verdict;
  note?: string;
}

/** One verdict already recorded on the anomaly (any actor), in log order. */
export interface GivenVerdict {
  eventId: string;
  actor: string;
  verdict: Verdict;
}

/** What the feedback history says: each actor's latest verdict and the event that recorded it. */
export type FeedbackState = ReadonlyMap<string, GivenVerdict>;

export function evolveFeedback(state: FeedbackState, given: GivenVerdict): FeedbackState {
  return new Map(state).set(given.actor, given);
}

/** Namespace of AnomalyFeedbackRecorded ids (uuid v5). */
export const FEEDBACK_NAMESPACE = '3c1e7a52-9d4b-5f0e-8a61-0b2c9d7e4f13';

/**
 * Pure: the event to append, or null when this actor's latest verdict already is this one (a repeat is a no-op).
 * The id is derived from the actor's previous verdict event, so two concurrent identical requests decided on the
 * same state append one event (the store's idempotent append), while a changed verdict is always a new event.
 */
export function decideFeedback(
  command: RecordAnomalyFeedback,
  state: FeedbackState,
): { eventId: string; data: AnomalyFeedbackRecordedData } | null {
  const previous = state.get(command.actor);
  if (previous?.verdict === command.verdict) return null;
  const eventId = uuidv5(`${command.anomalyId}/${command.actor}/${command.verdict}/${previous?.eventId ?? 'first'}`, FEEDBACK_NAMESPACE);
  return {
    eventId,
    data: {
      anomalyId: command.anomalyId,
      systemId: command.systemId,
      ...(command.equipmentId !== undefined ? { equipmentId: command.equipmentId } : {}),
      verdict: command.verdict,
      actor: command.actor,
      ...(command.note ? { note: command.note } : {}),
    },
  };
}
