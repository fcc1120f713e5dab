/** Detection metrics per component (same definitions as models/train/train.py). */
export interface ComponentMetrics {
  n: number;
  /** healthy component flagged degraded / healthy */
  fpr: number | null;
  /** degraded component flagged degraded / degraded */
  recall: number | null;
  /** binary healthy/degraded accuracy */
  accuracy: number;
  /** macro-F1 over {healthy, degraded} */
  macroF1: number;
  conditionAccuracy: number;
  conditionMacroF1: number;
  /** confusion[true class][predicted class], classes in manifest order (healthy first) */
  confusion: number[][];
}

function macroF1(y: ArrayLike<number>, p: ArrayLike<number>, K: number): number {
  let s = 0;
  for (let l = 0; l < K; l++) {
    let tp = 0, fp = 0, fn = 0;
    for (let i = 0; i < y.length; i++) {
      if (p[i] === l && y[i] === l) tp++;
      else if (p[i] === l) fp++;
      else if (y[i] === l) fn++;
    }
    s += tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
  }
  return s / K;
}

/** yTrue / yPred: class indices (0 = healthy). */
export function componentMetrics(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, K: number): ComponentMetrics {
  const n = yTrue.length;
  let h = 0, fp = 0, d = 0, tp = 0, correct = 0, condCorrect = 0;
  const yb = new Int8Array(n), pb = new Int8Array(n);
  const confusion = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  for (let i = 0; i < n; i++) {
    yb[i] = yTrue[i] > 0 ? 1 : 0;
    pb[i] = yPred[i] > 0 ? 1 : 0;
    if (yb[i]) { d++; if (pb[i]) tp++; } else { h++; if (pb[i]) fp++; }
    if (yb[i] === pb[i]) correct++;
    if (yTrue[i] === yPred[i]) condCorrect++;
    confusion[yTrue[i]][yPred[i]]++;
  }
  return {
    n,
    fpr: h ? fp / h : null,
    recall: d ? tp / d : null,
    accuracy: correct / n,
    macroF1: macroF1(yb, pb, 2),
    conditionAccuracy: condCorrect / n,
    conditionMacroF1: macroF1(yTrue, yPred, K),
    confusion,
  };
}
