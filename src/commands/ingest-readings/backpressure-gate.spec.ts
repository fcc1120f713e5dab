import { describe, expect, it } from '@jest/globals';
import { decideGate } from './backpressure-gate.js';

describe('decideGate', () => {
  it('given a lag up to 40 % of the bound, when deciding, then the gate is open', () => {
    expect(decideGate({ lagSeconds: 0 }, 20)).toEqual({ open: true });
    expect(decideGate({ lagSeconds: 8, behind: 'inference-saga' }, 20)).toEqual({ open: true });
  });

  it('given a lag over 40 % of the bound, when deciding, then it closes with a Retry-After of at least 1 s', () => {
    expect(decideGate({ lagSeconds: 12.5, behind: 'inference-saga' }, 20)).toEqual({ open: false, retryAfterSeconds: 5 });
    expect(decideGate({ lagSeconds: 0.9 }, 2)).toEqual({ open: false, retryAfterSeconds: 1 });
  });

  it('given a lag far beyond the bound, when deciding, then Retry-After is capped at 60 s', () => {
    expect(decideGate({ lagSeconds: 900 }, 20)).toEqual({ open: false, retryAfterSeconds: 60 });
  });

  it('given a bound of 0, when deciding, then backpressure is off', () => {
    expect(decideGate({ lagSeconds: 1e6 }, 0)).toEqual({ open: true });
  });
});
