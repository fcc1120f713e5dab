import { describe, expect, it } from '@jest/globals';
import { withinBudget } from './response-budget.js';

describe('response budget', () => {
  it('given items over the budget, when paged, then the page ends before the budget and keeps the first item', () => {
    const items = Array.from({ length: 10 }, (_, i) => ({ i, pad: 'x'.repeat(100) }));
    expect(withinBudget(items, 350)).toHaveLength(3);
    expect(withinBudget([{ big: 'y'.repeat(1000) }], 10)).toHaveLength(1);
    expect(withinBudget(items)).toHaveLength(10);
  });
});
