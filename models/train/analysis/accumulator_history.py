"""Causal equipment-history decisions for the accumulator, evaluated nested on the dumped OOF scores.

  /usr/bin/python3 models/train/train.py --data ../shared/data/hydraulic --out /tmp/acc --dump /tmp/acc/oof.npz
  /usr/bin/python3 models/train/analysis/accumulator_history.py --dump /tmp/acc/oof.npz [--json out.json]

Result (2026-11-28, docs/models.md §5.1): no aggregator helps under nested thresholds.

Input: `train.py --dump` (inner + outer out-of-fold probabilities of every family, shipped 1.1.0 code).
P(degraded) = 1 - (0.75 lr[:,0] + 0.25 xgb[:,0]) (the shipped accumulator ensemble, train.ensemble()).

Protocol (mirrors train.py):
  outer: 10 contiguous blocks (np.array_split of the cycle order); history never crosses a block start.
  inner: for outer fold k, training cycles tr = all minus block k (sorted), 4 inner blocks = array_split of
         positions in tr; an inner block that straddles the removed outer block is split at that gap
         (no history across a time discontinuity).
  The aggregator is applied to the inner OOF scores segment by segment, and the threshold is picked with
  train.tune_threshold's rule and grid (0.05..0.95 step 0.01; best inner recall with inner FPR <= MAX,
  else lowest FPR; ties -> closest to 0.5). MAX = 1 % (train.py's MAX_INNER_FPR) and 2 % (brief).
  The same aggregator is applied to the outer test block's scores and cut at that fold's threshold.
Causal: the decision for cycle t uses scores of cycles s..t only (s = segment start or t-k+1).
"""
from __future__ import annotations

import argparse
import json
import math

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from train import THRESHOLD_GRID, tune_threshold  # noqa: E402

N_OUTER, N_INNER = 10, 4
W_LR, W_XGB = 0.75, 0.25
GRID = THRESHOLD_GRID  # train.py's threshold rule and grid


# ------------------------------------------------------------------ segments
def segments_from(idx_sorted_blocks):
    """List of arrays of positions; split each block wherever the original cycle index jumps."""
    out = []
    for pos, orig in idx_sorted_blocks:
        cut = np.where(np.diff(orig) != 1)[0] + 1
        out.extend(np.split(pos, cut))
    return out


# ------------------------------------------------------------------ causal aggregators (per segment)
def agg_window(x, k, fn):
    return np.array([fn(x[max(0, t - k + 1): t + 1]) for t in range(len(x))])


def agg_ewma(x, alpha):
    s = np.empty_like(x)
    s[0] = x[0]
    for t in range(1, len(x)):
        s[t] = alpha * x[t] + (1 - alpha) * s[t - 1]
    return s


def apply_segments(p, segs, f):
    out = np.full(len(p), np.nan)
    for s in segs:
        out[s] = f(p[s])
    return out


def kofn_decide(p, segs, t, m, n):
    """Degraded when >= m of the last n per-cycle scores are >= t; with h < n cycles of history available,
    >= ceil(m*h/n) of the h (proportional)."""
    out = np.zeros(len(p), bool)
    for s in segs:
        above = (p[s] >= t).astype(int)
        c = np.cumsum(np.r_[0, above])
        for i in range(len(s)):
            lo = max(0, i - n + 1)
            h = i - lo + 1
            need = math.ceil(m * h / n)
            out[s[i]] = (c[i + 1] - c[lo]) >= need
    return out


def tune_kofn(p, y, segs, m, n, max_fpr):
    best = None
    for t in GRID:
        pr = kofn_decide(p, segs, t, m, n)
        fpr = pr[~y].mean(); rec = pr[y].mean()
        key = (fpr <= max_fpr, rec if fpr <= max_fpr else -fpr, -abs(t - 0.5))
        if best is None or key > best[0]:
            best = (key, float(t), fpr, rec)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dump", required=True, help="train.py --dump output (.npz)")
    ap.add_argument("--profile", default="../shared/data/hydraulic/profile.txt")
    ap.add_argument("--json", default=None, help="also write the results here")
    args = ap.parse_args()
    D = np.load(args.dump)
    Yall = D["Y"]
    ycls = Yall[:, 3]  # accumulator class index
    n = len(ycls)
    ydeg = ycls > 0

    def pdeg(prefix, comp="accumulator"):
        lr = D[f"{prefix}_lr_{comp}"]; xg = D[f"{prefix}_xgb_{comp}"]
        return 1.0 - (W_LR * lr[:, 0] + W_XGB * xg[:, 0]) / (W_LR + W_XGB)

    p_out = pdeg("outer")
    outer_blocks = np.array_split(np.arange(n), N_OUTER)
    outer_segs = [b for b in outer_blocks]
    inner = []
    for k, te in enumerate(outer_blocks):
        tr = np.setdiff1d(np.arange(n), te)
        pin = pdeg(f"inner{k}")
        yin = D[f"innerY{k}_accumulator"] > 0
        assert len(pin) == len(tr) and np.array_equal(yin, ydeg[tr]), "inner dump does not match tr"
        ib = np.array_split(np.arange(len(tr)), N_INNER)
        segs = segments_from([(b, tr[b]) for b in ib])
        inner.append(dict(tr=tr, p=pin, y=yin, segs=segs))

    # ---------------- settings / regimes
    P = np.loadtxt(args.profile)
    assert len(P) == n
    chg_any = np.r_[False, np.any(P[1:, :4] != P[:-1, :4], 1)]
    chg_acc = np.r_[False, P[1:, 3] != P[:-1, 3]]
    block_of = np.zeros(n, int)
    for k, b in enumerate(outer_blocks):
        block_of[b] = k

    def within_after(chg, k):
        """cycle t is within k cycles after a change at c when c <= t < c + k (window of t still holds a pre-change cycle)."""
        near = np.zeros(n, bool)
        for c in np.where(chg)[0]:
            near[c: c + k] = True
        return near

    # ---------------- variants
    variants = [("per-cycle", 1, lambda x: x)]
    for k in (3, 5, 10):
        variants.append((f"mean{k}", k, lambda x, k=k: agg_window(x, k, np.mean)))
    for k in (3, 5, 10):
        variants.append((f"median{k}", k, lambda x, k=k: agg_window(x, k, np.median)))
    for k in (3, 5, 10):
        a = 2.0 / (k + 1)
        variants.append((f"ewma(a={a:.3f}~span{k})", k, lambda x, a=a: agg_ewma(x, a)))
    for a in (0.5, 0.3, 0.2, 0.1):
        variants.append((f"ewma(a={a})", int(round(2 / a - 1)), lambda x, a=a: agg_ewma(x, a)))
    kofn = [(2, 3), (3, 3), (3, 5), (4, 5), (5, 5), (5, 10), (7, 10), (10, 10)]

    results = []

    def score(name, kwin, deg_out, thr, max_fpr):
        fp = deg_out & ~ydeg; fn = ~deg_out & ydeg
        r = dict(variant=name, maxInnerFpr=max_fpr, k=kwin, thresholds=thr,
                 fpr=100 * fp.sum() / (~ydeg).sum(), recall=100 * deg_out[ydeg].mean(),
                 FP=int(fp.sum()), FN=int(fn.sum()))
        for lab, chg in (("any", chg_any), ("acc", chg_acc)):
            near = within_after(chg, max(kwin, 1))
            r[f"FP_near_{lab}"] = int((fp & near).sum()); r[f"FN_near_{lab}"] = int((fn & near).sum())
        # near = within max(k,10) cycles? also report fixed k=10 window for comparability
        near10 = within_after(chg_acc, 10)
        r["FN_near_acc10"] = int((fn & near10).sum()); r["FP_near_acc10"] = int((fp & near10).sum())
        r["FN_per_block"] = [int((fn & (block_of == b)).sum()) for b in range(N_OUTER)]
        r["FP_per_block"] = [int((fp & (block_of == b)).sum()) for b in range(N_OUTER)]
        # ceiling: recall at outer FPR<=2 % with a threshold read off the test scores (diagnostic only)
        results.append(r)
        return r, fp, fn

    err_sets = {}
    for max_fpr in (0.01, 0.02):
        for name, kwin, f in variants:
            thr = []
            deg_out = np.zeros(n, bool)
            agg_out = apply_segments(p_out, outer_segs, f)
            for k, te in enumerate(outer_blocks):
                I = inner[k]
                agg_in = apply_segments(I["p"], I["segs"], f)
                t = tune_threshold(agg_in, I["y"], max_fpr)
                thr.append(t)
                deg_out[te] = agg_out[te] >= t
            r, fp, fn = score(name, kwin, deg_out, thr, max_fpr)
            # diagnostic ceiling on the aggregated outer scores
            hs = np.sort(agg_out[~ydeg])[::-1]
            cut = hs[int(np.floor(0.02 * len(hs)))]  # threshold just above the (2 %)-th highest healthy
            r["ceiling2"] = 100 * (agg_out[ydeg] > cut).mean()
            err_sets[(name, max_fpr)] = (fp, fn)
        for m, nn in kofn:
            thr = []; deg_out = np.zeros(n, bool)
            for k, te in enumerate(outer_blocks):
                I = inner[k]
                _, t, _, _ = tune_kofn(I["p"], I["y"], I["segs"], m, nn, max_fpr)
                thr.append(t)
                deg_out[te] = kofn_decide(p_out, [te], t, m, nn)[te]
            r, fp, fn = score(f"{m}of{nn}", nn, deg_out, thr, max_fpr)
            r["ceiling2"] = None
            err_sets[(f"{m}of{nn}", max_fpr)] = (fp, fn)

    # ---------------- print
    for max_fpr in (0.01, 0.02):
        print(f"\n=== threshold rule: best inner recall with inner FPR <= {max_fpr:.0%} (else lowest FPR), grid 0.05..0.95")
        print(f"{'variant':24s} {'FPR%':>6s} {'rec%':>6s} {'FP':>3s} {'FN':>4s} | FP/FN within k after any change | after acc change (k) | FN after acc chg(10) | ceil2% | thresholds")
        for r in results:
            if r["maxInnerFpr"] != max_fpr:
                continue
            ce = f"{r['ceiling2']:.1f}" if r["ceiling2"] is not None else "  - "
            print(f"{r['variant']:24s} {r['fpr']:6.2f} {r['recall']:6.2f} {r['FP']:3d} {r['FN']:4d} | "
                  f"FP {r['FP_near_any']:2d}/{r['FP']:<2d} FN {r['FN_near_any']:3d}/{r['FN']:<3d} (k={r['k']:2d}) | "
                  f"FP {r['FP_near_acc']:2d} FN {r['FN_near_acc']:3d} | {r['FN_near_acc10']:3d} | {ce:>5s} | "
                  f"{','.join(f'{t:.2f}' for t in r['thresholds'])}")
    print("\nper-block FN / FP (outer blocks 0..9):")
    for r in results:
        print(f"  {r['variant']:24s} rule {r['maxInnerFpr']:.0%}: FN {r['FN_per_block']}  FP {r['FP_per_block']}")

    # ---------------- where misses sit (baseline and a few variants): per regime
    def regime_table(name, max_fpr):
        fp, fn = err_sets[(name, max_fpr)]
        print(f"\nerrors by block x regime (cooler, valve, pump, acc) for {name}, rule {max_fpr:.0%}:")
        keys = {}
        for i in np.where(fp | fn)[0]:
            key = (block_of[i], int(P[i, 0]), int(P[i, 3]))
            keys.setdefault(key, [0, 0, 0])
            keys[key][0 if fn[i] else 1] += 1
        tot = {}
        for i in range(n):
            key = (block_of[i], int(P[i, 0]), int(P[i, 3]))
            tot[key] = tot.get(key, 0) + 1
        for key in sorted(keys):
            b, co, ac = key
            print(f"  block {b} cooler {co:3d} acc {ac:3d}: FN {keys[key][0]:3d} FP {keys[key][1]:3d} of {tot[key]:3d} cycles")
    for name in ("per-cycle", "mean5", "mean10", "median10", "ewma(a=0.1)"):
        regime_table(name, 0.01)
    regime_table("per-cycle", 0.02)
    regime_table("mean10", 0.02)

    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
