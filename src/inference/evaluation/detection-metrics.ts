/**
 * Threshold-free and thresholded detection figures on scores (higher = more likely degraded).
 * Rows whose score is NaN (not scorable in that protocol) are left out of every figure.
 */

/** ROC AUC by the rank-sum (Mann-Whitney) statistic, ties counted half; null without both classes. */
export function rocAuc(score: ArrayLike<number>, degraded: ArrayLike<number>): number | null {
  const rows: number[] = [];
  for (let i = 0; i < score.length; i++) if (!Number.isNaN(score[i])) rows.push(i);
  rows.sort((a, b) => score[a] - score[b]);
  let pos = 0, neg = 0, rankSum = 0;
  for (let k = 0; k < rows.length; ) {
    let e = k;
    while (e + 1 < rows.length && score[rows[e + 1]] === score[rows[k]]) e++;
    const avgRank = (k + e) / 2 + 1;
    for (let q = k; q <= e; q++) if (degraded[rows[q]]) { pos++; rankSum += avgRank; } else neg++;
    k = e + 1;
  }
  if (!pos || !neg) return null;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

/**
 * The a-priori threshold rule, applied to inner (training-part) scores only: the lowest threshold whose
 * FPR on those scores is <= maxFpr; a row is degraded when its score is > the threshold. With no healthy
 * inner row (rare: an inner training part without healthy cycles) the median degraded score is used.
 */
export function thresholdAtFpr(score: ArrayLike<number>, degraded: ArrayLike<number>, maxFpr: number): number {
  const h: number[] = [], d: number[] = [];
  for (let i = 0; i < score.length; i++) if (!Number.isNaN(score[i])) (degraded[i] ? d : h).push(score[i]);
  if (!h.length) {
    d.sort((a, b) => a - b);
    return d.length ? d[Math.floor(d.length / 2)] : 0.5;
  }
  h.sort((a, b) => b - a);
  const allowed = Math.floor(maxFpr * h.length);
  // scores strictly above h[allowed] flag at most `allowed` healthy rows
  return h[Math.min(allowed, h.length - 1)];
}

export interface ThresholdedFigures {
  scored: number;
  fpr: number | null;
  recall: number | null;
  /** recall per true condition value (degraded classes), e.g. {115: .., 100: .., 90: ..} */
  recallByCondition: Record<string, number>;
  falsePositives: number;
  falseNegatives: number;
}

/** thresholds: one per row (each fold's own), NaN rows skipped */
export function thresholded(score: ArrayLike<number>, threshold: ArrayLike<number>, condition: ArrayLike<number>, healthyValue: number): ThresholdedFigures {
  let h = 0, fp = 0, d = 0, tp = 0;
  const byN: Record<string, number> = {}, byTp: Record<string, number> = {};
  for (let i = 0; i < score.length; i++) {
    if (Number.isNaN(score[i]) || Number.isNaN(threshold[i])) continue;
    const flag = score[i] > threshold[i];
    if (condition[i] === healthyValue) { h++; if (flag) fp++; }
    else {
      d++;
      if (flag) tp++;
      const k = String(condition[i]);
      byN[k] = (byN[k] ?? 0) + 1;
      byTp[k] = (byTp[k] ?? 0) + (flag ? 1 : 0);
    }
  }
  return {
    scored: h + d,
    fpr: h ? fp / h : null,
    recall: d ? tp / d : null,
    recallByCondition: Object.fromEntries(Object.keys(byN).map((k) => [k, byTp[k] / byN[k]])),
    falsePositives: fp,
    falseNegatives: d - tp,
  };
}

/**
 * Diagnostic, not an honest figure: the best recall at FPR <= maxFpr with the threshold read off the
 * pooled out-of-fold scores themselves (how well the scores rank, whatever threshold a fold picked).
 */
export function recallAtFpr(score: ArrayLike<number>, degraded: ArrayLike<number>, maxFpr: number): number | null {
  const t = thresholdAtFpr(score, degraded, maxFpr);
  let d = 0, tp = 0, h = 0;
  for (let i = 0; i < score.length; i++) {
    if (Number.isNaN(score[i])) continue;
    if (degraded[i]) { d++; if (score[i] > t) tp++; } else h++;
  }
  return d && h ? tp / d : null;
}
