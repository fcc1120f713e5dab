import { describe, expect, it } from '@jest/globals';
import { decidePromotion, evolvePromotion, PromotionRejected, type PromotionState } from './decide-promotion.js';

const none: PromotionState = new Map();

describe('decidePromotion', () => {
  it('given no promotion yet, promoting a registered version records it with no previous version', () => {
    expect(decidePromotion({ profile: 'hydraulic-17', modelVersion: 'v2', registered: ['v1', 'v2'], reason: 'better recall' }, none)).toEqual({
      profile: 'hydraulic-17',
      modelVersion: 'v2',
      previousVersion: null,
      reason: 'better recall',
    });
  });

  it('given v1 promoted, promoting v2 names v1 as previous', () => {
    const state = evolvePromotion(none, { profile: 'hydraulic-17', modelVersion: 'v1', previousVersion: null });
    expect(decidePromotion({ profile: 'hydraulic-17', modelVersion: 'v2', registered: ['v1', 'v2'] }, state)).toMatchObject({ previousVersion: 'v1' });
  });

  it('promoting the version already promoted records nothing', () => {
    const state = evolvePromotion(none, { profile: 'hydraulic-17', modelVersion: 'v2', previousVersion: null });
    expect(decidePromotion({ profile: 'hydraulic-17', modelVersion: 'v2', registered: ['v2'] }, state)).toBeNull();
  });

  it('rejects a version the registry does not hold', () => {
    expect(() => decidePromotion({ profile: 'hydraulic-17', modelVersion: 'v9', registered: ['v1'] }, none)).toThrow(PromotionRejected);
  });
});
