import { describe, expect, it } from '@jest/globals';
import { decideFeedback, evolveFeedback, type FeedbackState, type RecordAnomalyFeedback } from './decide-feedback.js';

const none: FeedbackState = new Map();
const anomalyId = '5b1f0c7e-2a4d-5e8f-9b3c-1d2e3f4a5b6c';
const confirm: RecordAnomalyFeedback = { anomalyId, systemId: 'rig-1', actor: 'alice', verdict: 'confirmed' };

describe('decideFeedback', () => {
  it('given no verdict yet, a verdict is recorded with the actor and the note', () => {
    const decision = decideFeedback({ ...confirm, note: 'seal replaced' }, none);
    expect(decision?.data).toEqual({ anomalyId, systemId: 'rig-1', verdict: 'confirmed', actor: 'alice', note: 'seal replaced' });
  });

  it('given alice confirmed, alice confirming again records nothing', () => {
    const first = decideFeedback(confirm, none)!;
    const state = evolveFeedback(none, { eventId: first.eventId, actor: 'alice', verdict: 'confirmed' });
    expect(decideFeedback({ ...confirm, note: 'again' }, state)).toBeNull();
  });

  it('given alice confirmed, alice changing to false_positive is a new event with a new id', () => {
    const first = decideFeedback(confirm, none)!;
    const state = evolveFeedback(none, { eventId: first.eventId, actor: 'alice', verdict: 'confirmed' });
    const changed = decideFeedback({ ...confirm, verdict: 'false_positive' }, state)!;
    expect(changed.data.verdict).toBe('false_positive');
    expect(changed.eventId).not.toBe(first.eventId);
  });

  it('given alice went confirmed -> false_positive, confirming again is a new event, not the first one', () => {
    const first = decideFeedback(confirm, none)!;
    let state = evolveFeedback(none, { eventId: first.eventId, actor: 'alice', verdict: 'confirmed' });
    const second = decideFeedback({ ...confirm, verdict: 'false_positive' }, state)!;
    state = evolveFeedback(state, { eventId: second.eventId, actor: 'alice', verdict: 'false_positive' });
    const third = decideFeedback(confirm, state)!;
    expect(third).not.toBeNull();
    expect(new Set([first.eventId, second.eventId, third.eventId]).size).toBe(3);
  });

  it("given bob confirmed, alice's same verdict is still recorded (per actor)", () => {
    const state = evolveFeedback(none, { eventId: 'e1', actor: 'bob', verdict: 'confirmed' });
    expect(decideFeedback(confirm, state)?.data.actor).toBe('alice');
  });

  it('the same request decided twice on the same state gets the same id (concurrent retries append once)', () => {
    expect(decideFeedback(confirm, none)!.eventId).toBe(decideFeedback(confirm, none)!.eventId);
  });
});
