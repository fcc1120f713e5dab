/**
 * Extremely randomised trees (Geurts et al. 2006), binary healthy/degraded, for the evaluation protocols:
 * the learner of the independent check in issue #18 and of the cycle-index leakage control. Hand-written
 * because the evaluation refits it a few thousand times (stretch folds x inner folds) and the npm forests
 * (ml-random-forest) sort every candidate feature at every node and have no random-split variant.
 * Split: per node, maxFeatures random features, one uniform threshold between the node's min and max of
 * each, the best by Gini; a node splits while it has >= minSplit rows and both classes.
 */
import { rng, type Learner, type Matrix } from './matrix.js';

export interface ExtraTreesOptions {
  trees?: number;
  /** features tried per node; default round(sqrt(cols)) */
  maxFeatures?: number;
  minSplit?: number;
  maxDepth?: number;
}

interface Tree {
  feature: Int32Array;
  threshold: Float64Array;
  left: Int32Array;
  right: Int32Array;
  /** P(degraded) at a leaf */
  value: Float64Array;
}

function growTree(x: Matrix, y: Uint8Array, rows: Int32Array, o: Required<ExtraTreesOptions>, rand: () => number): Tree {
  const cap = 2 * rows.length + 1;
  const feature = new Int32Array(cap).fill(-1), left = new Int32Array(cap), right = new Int32Array(cap);
  const threshold = new Float64Array(cap), value = new Float64Array(cap);
  let nodes = 0;
  const idx = Int32Array.from(rows);
  const n = x.rows, d = x.data;
  // explicit stack: [node, from, to, depth]
  const stack: number[] = [nodes++, 0, idx.length, 0];
  while (stack.length) {
    const depth = stack.pop()!, to = stack.pop()!, from = stack.pop()!, node = stack.pop()!;
    let pos = 0;
    for (let k = from; k < to; k++) pos += y[idx[k]];
    const m = to - from;
    value[node] = pos / m;
    if (m < o.minSplit || pos === 0 || pos === m || depth >= o.maxDepth) continue;
    let bestF = -1, bestT = 0, bestG = Infinity;
    for (let t = 0; t < o.maxFeatures; t++) {
      const f = Math.floor(rand() * x.cols);
      const off = f * n;
      let lo = Infinity, hi = -Infinity;
      for (let k = from; k < to; k++) {
        const v = d[off + idx[k]];
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      if (!(hi > lo)) continue;
      const thr = lo + rand() * (hi - lo);
      let nl = 0, pl = 0;
      for (let k = from; k < to; k++)
        if (d[off + idx[k]] <= thr) { nl++; pl += y[idx[k]]; }
      const nr = m - nl, pr = pos - pl;
      if (nl === 0 || nr === 0) continue;
      // weighted Gini impurity of the children (times m)
      const g = nl - (pl * pl + (nl - pl) * (nl - pl)) / nl + nr - (pr * pr + (nr - pr) * (nr - pr)) / nr;
      if (g < bestG) { bestG = g; bestF = f; bestT = thr; }
    }
    if (bestF < 0) continue;
    // partition idx[from, to) by the split
    const off = bestF * n;
    let i = from, j = to - 1;
    while (i <= j) {
      if (d[off + idx[i]] <= bestT) i++;
      else { const tmp = idx[i]; idx[i] = idx[j]; idx[j] = tmp; j--; }
    }
    const l = nodes++, r = nodes++;
    feature[node] = bestF; threshold[node] = bestT; left[node] = l; right[node] = r;
    stack.push(l, from, i, depth + 1, r, i, to, depth + 1);
  }
  return { feature: feature.subarray(0, nodes), threshold: threshold.subarray(0, nodes), left: left.subarray(0, nodes), right: right.subarray(0, nodes), value: value.subarray(0, nodes) };
}

export function extraTrees(options: ExtraTreesOptions = {}): Learner {
  return (x, y, train, test, seed) => {
    const o: Required<ExtraTreesOptions> = {
      trees: options.trees ?? 50,
      maxFeatures: options.maxFeatures ?? Math.max(1, Math.round(Math.sqrt(x.cols))),
      minSplit: options.minSplit ?? 2,
      maxDepth: options.maxDepth ?? 40,
    };
    const rand = rng(seed);
    const out = new Float64Array(test.length);
    for (let t = 0; t < o.trees; t++) {
      const tree = growTree(x, y, train, o, rand);
      for (let k = 0; k < test.length; k++) {
        let node = 0;
        while (tree.feature[node] >= 0) node = x.data[tree.feature[node] * x.rows + test[k]] <= tree.threshold[node] ? tree.left[node] : tree.right[node];
        out[k] += tree.value[node];
      }
    }
    for (let k = 0; k < out.length; k++) out[k] /= o.trees;
    return out;
  };
}
