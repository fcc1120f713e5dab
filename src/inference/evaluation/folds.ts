/**
 * Cross-validation folds over cycles in their original order (cycles.txt).
 * - block: k contiguous blocks of about equal size (train.py's np.array_split), today's protocol;
 * - stretch: per component, the maximal runs of consecutive cycles with a constant (cooler, component)
 *   condition. The rig changed its conditions on a schedule in long stretches, so a block always has
 *   near-identical neighbours in training; leaving a whole stretch out is what a new rig or regime meets.
 */
import type { ComponentName } from '../ensemble.js';

export interface Fold {
  /** test cycles [start, end) in row order */
  start: number;
  end: number;
}

export const PROTOCOLS = ['block', 'stretch'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export function blockFolds(n: number, k: number): Fold[] {
  if (n < k) throw new Error(`block folds: ${n} cycles for ${k} blocks`);
  // np.array_split: the first n % k blocks get one more row
  const base = Math.floor(n / k), extra = n % k;
  const out: Fold[] = [];
  let s = 0;
  for (let i = 0; i < k; i++) {
    const len = base + (i < extra ? 1 : 0);
    out.push({ start: s, end: s + len });
    s += len;
  }
  return out;
}

export function stretchFolds(labels: Record<ComponentName, ArrayLike<number>>, component: ComponentName): Fold[] {
  const cooler = labels.cooler, c = labels[component];
  const n = cooler.length;
  const out: Fold[] = [];
  let s = 0;
  for (let i = 1; i <= n; i++)
    if (i === n || cooler[i] !== cooler[i - 1] || c[i] !== c[i - 1]) {
      out.push({ start: s, end: i });
      s = i;
    }
  return out;
}

/** Throws unless the cycle numbers increase: the stretch protocol needs the original order. */
export function assertCycleOrder(cycles: ArrayLike<number>): void {
  for (let i = 1; i < cycles.length; i++)
    if (!(cycles[i] > cycles[i - 1])) throw new Error(`cycles.txt row ${i + 1}: cycle ${cycles[i]} does not follow ${cycles[i - 1]}; the folds need the original cycle order`);
}
