"""Today's window ensemble recipe (train.py: rf, xgb, helm, lr, the version's weights) under the stretch
protocol, and the same recipe given only the cycle index (the leakage control).

  nice -n 10 /usr/bin/python3 models/train/stretch_cv.py --data /work/shared/data/hydraulic \
      --out bench/results/stretch-oof-hydraulic-17-1.1.0.json [--components accumulator,pump]

Stretch protocol, per component: the folds are the maximal runs of consecutive cycles (cycles.txt order)
with a constant (cooler, component) condition; each run is held out once and the recipe is fitted on all
other runs. Thresholds are nested: an inner CV over the training runs only (the training runs in time
order, split into INNER_GROUPS contiguous groups, one group left out at a time) gives out-of-fold
P(degraded), and the threshold is the a-priori rule of train.py with an inner FPR limit of 2 %. A fold whose
training part lacks healthy or degraded cycles cannot be scored (recorded as skipped, scores null).

Writes out-of-fold P(degraded) and each fold's threshold, per component, for the model and the control;
`npm run evaluate -- --protocol stretch --ensemble-oof FILE` computes the metrics with the same code as
its own rows. Analysis only: nothing here is exported or shipped.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hydraulic as H  # noqa: E402
import features as FE  # noqa: E402
import train as T  # noqa: E402
from helm import HELM  # noqa: E402
from lr import HierLR, transient_mask  # noqa: E402

INNER_GROUPS = 3
MAX_INNER_FPR = 0.02


def stretches(labels, comp):
    key = list(zip(labels["cooler"], labels[comp]))
    out, s = [], 0
    for i in range(1, len(key) + 1):
        if i == len(key) or key[i] != key[i - 1]:
            out.append((s, i))
            s = i
    return out


def fit_predict(X, y, comp, tr, te, mask, seed):
    """The recipe for one component: P(degraded) of rows te from models fitted on rows tr."""
    ci = H.COMPONENTS.index(comp)
    K = T.NCLS[comp]
    ncls = {comp: K}
    probs = {}
    for kind in T.FAMILIES:
        hp = T.WINDOW_HP[kind]
        if kind == "helm":
            m = HELM(seed=seed, **hp).fit(X[tr], {comp: y[tr]}, ncls)
            probs[kind] = m.predict_proba(X[te].astype(np.float32))
        elif kind == "lr":
            m = HierLR(mask, **hp).fit(X[tr], {comp: y[tr]}, ncls)
            probs[kind] = m.predict_proba(X[te])
        else:
            # train.py's fit_family for one component (same seeds: seed + component index)
            import xgboost as xgb
            from sklearn.ensemble import RandomForestClassifier
            present = np.unique(y[tr])
            full = np.zeros((len(te), K))
            if kind == "rf":
                mm = RandomForestClassifier(random_state=seed + ci, **hp).fit(X[tr].astype(np.float32), y[tr])
                full[:, [int(k) for k in mm.classes_]] = mm.predict_proba(X[te].astype(np.float32))
            else:
                mm = xgb.XGBClassifier(objective="multi:softprob", num_class=len(present), random_state=seed + ci, **hp)
                mm.fit(X[tr].astype(np.float32), np.searchsorted(present, y[tr]))
                full[:, [int(k) for k in present]] = mm.predict_proba(X[te].astype(np.float32))
            probs[kind] = {comp: full}
    # train.py's ensemble(): the component's weights replace the global ones (window mode)
    w = {**T.WEIGHTS, **T.COMPONENT_WEIGHTS.get(comp, {})}
    ens = sum(w[k] * probs[k][comp] for k in probs) / sum(w[k] for k in probs)
    return 1.0 - ens[:, 0]


def run(X, Y, labels, comp, mask, log):
    n = len(X)
    y = Y[comp]
    runs = stretches(labels, comp)
    p = np.full(n, np.nan)
    folds = []
    for k, (s, e) in enumerate(runs):
        tf = time.time()
        te = np.arange(s, e)
        tr_runs = [r for r in runs if r != (s, e)]
        tr = np.concatenate([np.arange(a, b) for a, b in tr_runs])
        info = {"stretch": [s, e], "cooler": int(labels["cooler"][s]), "condition": int(labels[comp][s])}
        if len(np.unique(y[tr] > 0)) < 2 or len(np.unique(y[tr])) < 2:
            info["skipped"] = "the training part lacks healthy or degraded cycles"
            folds.append(info)
            continue
        seed = T.SEED + 1000 * (k + 1)
        # nested threshold: inner CV over the training runs, in time order, INNER_GROUPS contiguous groups
        groups = np.array_split(np.arange(len(tr_runs)), min(INNER_GROUPS, len(tr_runs)))
        inner = np.full(len(tr), np.nan)
        pos = {}
        off = 0
        for j, (a, b) in enumerate(tr_runs):
            pos[j] = np.arange(off, off + b - a)
            off += b - a
        for g in groups:
            ite = np.concatenate([pos[j] for j in g])
            itr = np.setdiff1d(np.arange(len(tr)), ite)
            if len(np.unique(y[tr][itr] > 0)) < 2:
                continue  # inner training part with one class only: these rows get no inner score
            inner[ite] = fit_predict(X, y, comp, tr[itr], tr[ite], mask, seed + 7)
        ok = ~np.isnan(inner)
        thr = T.tune_threshold(inner[ok], y[tr][ok] > 0, max_fpr=MAX_INNER_FPR) if ok.any() else 0.5
        p[te] = fit_predict(X, y, comp, tr, te, mask, seed)
        info["threshold"] = thr
        folds.append(info)
        log(f"  {comp} stretch {k} [{s},{e}) cooler {info['cooler']} cond {info['condition']}: thr {thr:.2f} "
            f"mean p {np.mean(p[te]):.3f} ({time.time() - tf:.1f}s)")
    return {"pDegraded": [None if np.isnan(v) else round(float(v), 6) for v in p], "folds": folds}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/work/shared/data/hydraulic")
    ap.add_argument("--out", required=True)
    ap.add_argument("--components", default=",".join(H.COMPONENTS))
    ap.add_argument("--limit", type=int, default=0, help="only the first N cycles (a quick check)")
    args = ap.parse_args()
    W, labels, _, cycles = H.load(args.data)
    if np.any(np.diff(cycles) <= 0):
        raise SystemExit("cycles.txt is not in increasing order: the stretch protocol needs the original order")
    if args.limit:
        W, labels, cycles = W[:args.limit], {c: v[:args.limit] for c, v in labels.items()}, cycles[:args.limit]
    Xw, names = FE.window_features(W)
    mask = transient_mask(names)
    Y = {c: H.class_index(c, labels[c]) for c in H.COMPONENTS}
    Xi = (cycles.astype(np.float64) - 1.0)[:, None]  # the control sees only the cycle index
    out = {"recipe": f"{T.VERSION}: rf/xgb/helm/lr, weights {T.WEIGHTS}, componentWeights {T.COMPONENT_WEIGHTS}",
           "protocol": "stretch", "innerGroups": INNER_GROUPS, "maxInnerFpr": MAX_INNER_FPR,
           "cycles": int(len(W)), "components": {}}
    log = lambda s: print(s, flush=True)
    for comp in args.components.split(","):
        t0 = time.time()
        model = run(Xw, Y, labels, comp, mask, log)
        control = run(Xi, Y, labels, comp, np.array([True]), log)
        out["components"][comp] = {"model": model, "control": control, "seconds": round(time.time() - t0, 1)}
        log(f"{comp}: {time.time() - t0:.0f}s")
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            json.dump(out, f)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
