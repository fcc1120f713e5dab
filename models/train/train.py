"""Reproducible offline training for profile hydraulic-17.

  /usr/bin/python3 models/train/train.py --data /work/shared/data/hydraulic --out models [--folds 10]

Writes models/hydraulic-17/<version>/{rf,xgb,helm}.onnx (window models), {rf,xgb,helm}-sample.onnx
(single-sample models), cv/fold-k/* (out-of-fold models of the block cross-validation),
models/manifest.json and models/test-vectors/*.json.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sys
import time

import numpy as np
import sklearn
import xgboost as xgb
from sklearn.ensemble import RandomForestClassifier

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hydraulic as H  # noqa: E402
import features as FE  # noqa: E402
from helm import HELM  # noqa: E402
from lr import HierLR, transient_mask  # noqa: E402
import export_onnx as EX  # noqa: E402
from bundle import bundle_version  # noqa: E402

SEED = 20261128
VERSION = "hydraulic-17-1.2.1"  # --version picks another (1.2.0: the same with the baseline member voting)
FAMILIES = ["rf", "xgb", "helm", "lr"]          # window models
SAMPLE_FAMILIES = ["rf", "xgb", "helm"]         # single-sample models (no lr: the transients need a window)
WEIGHTS = {"rf": 0.4, "xgb": 0.4, "helm": 0.2, "lr": 0.0}
# Per-component weights of the window ensemble (override WEIGHTS for that component). The accumulator
# is decided mostly by the linear transient model, which extrapolates across temperature regimes.
COMPONENT_WEIGHTS = {"accumulator": {"rf": 0.0, "xgb": 0.25, "helm": 0.0, "lr": 0.75}}
LR_MASK = None  # set in main(): window features used by the lr family (lr.transient_mask)
NCLS = {c: len(H.CONDITIONS[c]) for c in H.COMPONENTS}
INNER_FOLDS = 4
MAX_INNER_FPR = 0.01       # thresholds: best recall with inner-CV FPR <= 1 % (target 2 %)
SAMPLE_THRESHOLD = 0.5
SAMPLE_STRIDE = 6          # sample models train on every 6th second of each training cycle

WINDOW_HP = {
    "rf": dict(n_estimators=60, min_samples_leaf=2, max_features="sqrt", n_jobs=1),
    "xgb": dict(n_estimators=40, max_depth=4, learning_rate=0.25, subsample=0.8, colsample_bytree=0.3,
                tree_method="hist", max_bin=32, n_jobs=1),
    "helm": dict(ae_sizes=(96, 64), enhance=256, ae_lambda=1.0, out_lambda=10.0),
    "lr": dict(C=1.0, C_cond=1.0, max_iter=3000),
}
SAMPLE_HP = {
    "rf": dict(n_estimators=30, max_depth=10, min_samples_leaf=20, max_features="sqrt", n_jobs=1),
    "xgb": dict(n_estimators=30, max_depth=4, learning_rate=0.3, subsample=0.8, colsample_bytree=0.8,
                tree_method="hist", max_bin=64, n_jobs=1),
    "helm": dict(ae_sizes=(32, 32), enhance=128, ae_lambda=1.0, out_lambda=1.0),
}


# ---------------------------------------------------------------- models
def fit_family(kind, X, Y, hp, seed):
    if kind == "helm":
        return HELM(seed=seed, **hp).fit(X, Y, NCLS)
    if kind == "lr":
        return HierLR(LR_MASK, **hp).fit(X, Y, NCLS)
    out = {}
    for i, c in enumerate(H.COMPONENTS):
        y = Y[c]
        present = np.unique(y)
        if len(present) < 2:
            raise RuntimeError(f"{c}: a training set holds only class {present}")
        if kind == "rf":
            m = RandomForestClassifier(random_state=seed + i, **hp)
            m.fit(X.astype(np.float32), y)
        else:
            # a class can be absent from an inner training set: train on the present ones, map back
            m = xgb.XGBClassifier(objective="multi:softprob", num_class=len(present), random_state=seed + i, **hp)
            m.fit(X.astype(np.float32), np.searchsorted(present, y))
            m.present_ = [int(v) for v in present]
        out[c] = m
    return out


def predict_family(kind, models, X):
    X32 = np.asarray(X, dtype=np.float32)
    if kind in ("helm", "lr"):
        return models.predict_proba(X32)
    out = {}
    for c, m in models.items():
        p = m.predict_proba(X32)
        full = np.zeros((len(X32), NCLS[c]), dtype=np.float64)
        cls = getattr(m, "present_", None) or [int(k) for k in m.classes_]
        full[:, cls] = p
        out[c] = full
    return out


def export_family(kind, models, n_features, path):
    if kind == "helm":
        model = EX.helm_model(models, n_features, NCLS, os.path.basename(path))
    elif kind == "lr":
        model = EX.lr_model(models, n_features, NCLS, os.path.basename(path))
    elif kind == "rf":
        model = EX.trees_model({c: EX.rf_node(m, NCLS[c], c) for c, m in models.items()}, n_features, NCLS, "rf")
    else:
        model = EX.trees_model({c: EX.xgb_node(m.get_booster(), NCLS[c], c, m.present_) for c, m in models.items()},
                               n_features, NCLS, "xgb")
    EX.save(model, path)


def ensemble(probs: dict, weights=WEIGHTS, component_weights=None):
    """Weighted mean per component; component_weights[c] (if given) replaces weights for c.
    Window mode passes COMPONENT_WEIGHTS, sample mode does not (same rule as src/inference/ensemble.ts)."""
    out = {}
    for c in H.COMPONENTS:
        w = {**weights, **((component_weights or {}).get(c, {}))}
        wsum = sum(w.get(k, 0.0) for k in probs)
        if wsum <= 0:
            w = weights
            wsum = sum(w.get(k, 0.0) for k in probs)
        out[c] = sum(w.get(k, 0.0) * np.asarray(probs[k][c], dtype=np.float64) for k in probs) / wsum
    return out


# ---------------------------------------------------------------- thresholds and metrics
def decide(p, thr):
    deg = (1.0 - p[:, 0]) >= thr
    cond = np.where(deg, 1 + np.argmax(p[:, 1:], axis=1), 0)
    return deg, cond


THRESHOLD_GRID = np.round(np.arange(0.05, 0.951, 0.01), 2)


def tune_threshold(p_deg, y_deg, max_fpr=MAX_INNER_FPR, grid=THRESHOLD_GRID):
    best = None
    for t in grid:
        pr = p_deg >= t
        fpr = pr[~y_deg].mean() if (~y_deg).any() else 0.0
        rec = pr[y_deg].mean() if y_deg.any() else 1.0
        key = (fpr <= max_fpr, rec if fpr <= max_fpr else -fpr, -abs(t - 0.5))
        if best is None or key > best[0]:
            best = (key, float(t))
    return best[1]


def f1s(y, p, labels):
    out = []
    for l in labels:
        tp = np.sum((p == l) & (y == l)); fp = np.sum((p == l) & (y != l)); fn = np.sum((p != l) & (y == l))
        out.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return float(np.mean(out))


def metrics(y_cls, p, thr):
    deg, cond = decide(p, thr)
    yd = y_cls > 0
    return {
        "n": int(len(y_cls)),
        "fpr": float(deg[~yd].mean()) if (~yd).any() else None,
        "recall": float(deg[yd].mean()) if yd.any() else None,
        "accuracy": float((deg == yd).mean()),
        "macroF1": f1s(yd.astype(int), deg.astype(int), [0, 1]),
        "conditionAccuracy": float((cond == y_cls).mean()),
        "conditionMacroF1": f1s(y_cls, cond, list(range(p.shape[1]))),
    }


def thresholds_from_inner(Xw, Y, seed):
    """Nested: per-family and ensemble thresholds from an inner block CV on the given training rows."""
    n = len(Xw)
    blocks = np.array_split(np.arange(n), INNER_FOLDS)
    oof = {k: {c: np.zeros((n, NCLS[c])) for c in H.COMPONENTS} for k in FAMILIES}
    for b in blocks:
        tr = np.setdiff1d(np.arange(n), b)
        for kind in FAMILIES:
            m = fit_family(kind, Xw[tr], {c: Y[c][tr] for c in Y}, WINDOW_HP[kind], seed)
            p = predict_family(kind, m, Xw[b])
            for c in H.COMPONENTS:
                oof[kind][c][b] = p[c]
    thr = {}
    for kind in FAMILIES:
        thr[kind] = {c: tune_threshold(1 - oof[kind][c][:, 0], Y[c] > 0) for c in H.COMPONENTS}
    ens = ensemble(oof, WEIGHTS, COMPONENT_WEIGHTS)
    INNER_OOF.append({"idx": None, "oof": oof, "Y": Y})
    thr["ensemble"] = {c: tune_threshold(1 - ens[c][:, 0], Y[c] > 0) for c in H.COMPONENTS}
    return thr


INNER_OOF = []  # inner out-of-fold probabilities (for --dump)


# ---------------------------------------------------------------- operating conditions (1.2.0 on)
# Regimes: the cooler settings, told apart by cooling efficiency and power. Coverage: nearest-training-window
# distance in these standardised operating features, as a conformal p-value (src/inference/baseline/
# operating-conditions.ts). Baseline member: the switching-transient features against the equipment's own
# healthy reference per regime (src/inference/baseline/healthy-baseline.ts), accumulator only, fixed a priori.
REGIME_FEATURES = ["CE.mean", "CP.mean"]
COVERAGE_FEATURES = ["CE.mean", "CP.mean", "TS1.mean", "TS2.mean", "TS3.mean", "TS4.mean", "PS1.mean", "EPS1.mean", "FS1.mean"]
MIN_COVERAGE = 0.01
BASELINE_COMMISSIONING = 50
BASELINE_WEIGHT = 0.5
# 1.2.0 let the member vote on the accumulator; its re-projection over the training history lost accumulator
# recall (commissioning in cooler 20 % / 100 % met a degraded accumulator, docs/models.md §5.0), so from 1.2.1 on the
# baselines are learned and recorded but vote on nothing
BASELINE_COMPONENTS_BY_VERSION = {"hydraulic-17-1.2.0": ["accumulator"]}


def operating_conditions(Xw, names, labels):
    ri = [names.index(f) for f in REGIME_FEATURES]
    ci = [names.index(f) for f in COVERAGE_FEATURES]
    regimes = []
    for k in sorted(set(int(v) for v in labels["cooler"])):
        R = Xw[labels["cooler"] == k][:, ri]
        regimes.append({"id": f"cooler-{k}", "center": [float(v) for v in R.mean(axis=0)],
                        "scale": [float(max(v, 1e-6)) for v in R.std(axis=0)]})
    C = Xw[:, ci]
    mu, sd = C.mean(axis=0), C.std(axis=0)
    Z = np.round((C - mu) / np.where(sd > 1e-12, sd, 1.0), 4)
    D = np.sqrt(((Z[:, None, :] - Z[None, :, :]) ** 2).sum(axis=2))
    np.fill_diagonal(D, np.inf)
    self_d = np.sort(D.min(axis=1))
    return {"regimeFeatures": REGIME_FEATURES, "regimes": regimes, "coverageFeatures": COVERAGE_FEATURES,
            "mean": [float(v) for v in mu], "std": [float(v) for v in sd],
            "points": [[float(v) for v in row] for row in Z], "selfDistances": [float(v) for v in self_d],
            "minCoverage": MIN_COVERAGE}


def sample_rows(W, idx, stride, offset_by_cycle=True):
    rows = []
    for j, i in enumerate(idx):
        off = (i % stride) if offset_by_cycle else 0
        rows.append(W[i, off::stride, :])
    return np.concatenate(rows, axis=0)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def data_digest(directory):
    h = hashlib.sha256()
    for name in [f"{s}.txt" for s in H.SENSORS] + ["profile.txt"]:
        with open(os.path.join(directory, name), "rb") as f:
            h.update(f.read())
    return h.hexdigest()


# ---------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/work/shared/data/hydraulic")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    ap.add_argument("--folds", type=int, default=10)
    ap.add_argument("--skip-cv", action="store_true")
    ap.add_argument("--activate", action="store_true", help="make this version the manifest's active one")
    ap.add_argument("--dump", default=None, help="write inner/outer out-of-fold probabilities to this .npz (analysis)")
    ap.add_argument("--cv-from", default=None,
                    help="with --skip-cv: take the block-CV section (fold models, thresholds, metrics) of this version "
                         "from the manifest; only valid when its recipe and seeds are this version's (1.2.0 from 1.1.0)")
    ap.add_argument("--version", default=None, help="version to write (default: VERSION)")
    args = ap.parse_args()
    global LR_MASK, VERSION
    VERSION = args.version or VERSION
    t0 = time.time()
    out = os.path.abspath(args.out)
    vdir = os.path.join(out, "hydraulic-17", VERSION)
    os.makedirs(vdir, exist_ok=True)

    W, labels, stable, cycles = H.load(args.data)
    n = len(W)
    Xw, wnames = FE.window_features(W)
    _, snames = FE.sample_features(W[0])
    LR_MASK = transient_mask(wnames)
    Y = {c: H.class_index(c, labels[c]) for c in H.COMPONENTS}
    print(f"loaded {n} cycles, {Xw.shape[1]} window features, {len(snames)} sample features", flush=True)

    def fit_all(idx, seed, outdir, thr_idx=None):
        """Fit window + sample families on cycles idx, export to outdir, return (models, thresholds, files)."""
        os.makedirs(outdir, exist_ok=True)
        thr = thresholds_from_inner(Xw[idx], {c: Y[c][idx] for c in Y}, seed)
        wm = {k: fit_family(k, Xw[idx], {c: Y[c][idx] for c in Y}, WINDOW_HP[k], seed) for k in FAMILIES}
        rows = sample_rows(W, idx, SAMPLE_STRIDE)
        Xs, _ = FE.sample_features(rows)
        Ys = {c: np.repeat(Y[c][idx], [len(range(i % SAMPLE_STRIDE, 60, SAMPLE_STRIDE)) for i in idx]) for c in Y}
        sm = {k: fit_family(k, Xs, Ys, SAMPLE_HP[k], seed) for k in SAMPLE_FAMILIES}
        files = {}
        for k in FAMILIES:
            p = os.path.join(outdir, f"{k}.onnx")
            export_family(k, wm[k], Xw.shape[1], p)
            files[k] = p
        for k in SAMPLE_FAMILIES:
            p = os.path.join(outdir, f"{k}-sample.onnx")
            export_family(k, sm[k], len(snames), p)
            files[f"{k}-sample"] = p
        return wm, sm, thr, files

    rel = lambda p: os.path.relpath(p, out).replace(os.sep, "/")
    cv = None
    if not args.skip_cv:
        blocks = np.array_split(np.arange(n), args.folds)
        oof_w = {k: {c: np.zeros((n, NCLS[c])) for c in H.COMPONENTS} for k in FAMILIES}
        oof_s = {k: {c: np.zeros((n * 60, NCLS[c])) for c in H.COMPONENTS} for k in SAMPLE_FAMILIES}
        thr_per_cycle = {k: {c: np.zeros(n) for c in H.COMPONENTS} for k in FAMILIES + ["ensemble"]}
        fold_info = []
        for k, te in enumerate(blocks):
            tf = time.time()
            tr = np.setdiff1d(np.arange(n), te)
            fdir = os.path.join(vdir, "cv", f"fold-{k}")
            wm, sm, thr, files = fit_all(tr, SEED + 1000 * (k + 1), fdir)
            Xs_te, _ = FE.sample_features(W[te].reshape(-1, W.shape[2]))
            srows = (te[:, None] * 60 + np.arange(60)[None, :]).reshape(-1)
            for kind in FAMILIES:
                pw = predict_family(kind, wm[kind], Xw[te])
                for c in H.COMPONENTS:
                    oof_w[kind][c][te] = pw[c]
            for kind in SAMPLE_FAMILIES:
                ps = predict_family(kind, sm[kind], Xs_te)
                for c in H.COMPONENTS:
                    oof_s[kind][c][srows] = ps[c]
            for kind in FAMILIES + ["ensemble"]:
                for c in H.COMPONENTS:
                    thr_per_cycle[kind][c][te] = thr[kind][c]
            fold_info.append({
                "fold": k, "testCycles": [int(te[0]), int(te[-1]) + 1],
                "thresholds": thr,
                "files": {name: {"path": rel(p), "sha256": sha256(p)} for name, p in files.items()},
            })
            print(f"fold {k}: test cycles [{te[0]}, {te[-1] + 1}) thresholds {thr['ensemble']} {time.time() - tf:.1f}s", flush=True)

        def table(probs_by_family, n_rows, per_cycle_thr, ylab, comp_w=None):
            res = {}
            for kind in list(probs_by_family) + ["ensemble"]:
                probs = ensemble(probs_by_family, WEIGHTS, comp_w) if kind == "ensemble" else probs_by_family[kind]
                res[kind] = {}
                for c in H.COMPONENTS:
                    p = probs[c]
                    if per_cycle_thr is None:
                        deg_thr = SAMPLE_THRESHOLD
                        res[kind][c] = metrics(ylab[c], p, deg_thr)
                    else:
                        # thresholds differ per fold: decide fold by fold
                        thr_vec = per_cycle_thr[kind][c]
                        deg = (1 - p[:, 0]) >= thr_vec
                        cond = np.where(deg, 1 + np.argmax(p[:, 1:], axis=1), 0)
                        yd = ylab[c] > 0
                        res[kind][c] = {
                            "n": int(len(yd)),
                            "fpr": float(deg[~yd].mean()), "recall": float(deg[yd].mean()),
                            "accuracy": float((deg == yd).mean()),
                            "macroF1": f1s(yd.astype(int), deg.astype(int), [0, 1]),
                            "conditionAccuracy": float((cond == ylab[c]).mean()),
                            "conditionMacroF1": f1s(ylab[c], cond, list(range(p.shape[1]))),
                        }
            return res

        cyc_metrics = table(oof_w, n, thr_per_cycle, Y, COMPONENT_WEIGHTS)
        if args.dump:
            np.savez(args.dump, Y=np.stack([Y[c] for c in H.COMPONENTS], 1),
                     **{f"outer_{k}_{c}": oof_w[k][c] for k in FAMILIES for c in H.COMPONENTS},
                     **{f"inner{j}_{k}_{c}": d["oof"][k][c] for j, d in enumerate(INNER_OOF) for k in FAMILIES for c in H.COMPONENTS},
                     **{f"innerY{j}_{c}": d["Y"][c] for j, d in enumerate(INNER_OOF) for c in H.COMPONENTS})
        smp_metrics = table(oof_s, n * 60, None, {c: np.repeat(Y[c], 60) for c in Y})
        cv = {"protocol": f"{args.folds} contiguous blocks of consecutive cycles (np.array_split of the row order); "
                          f"thresholds tuned per fold by an inner {INNER_FOLDS}-block CV on the training blocks only",
              "folds": fold_info, "metrics": {"cycle": cyc_metrics, "sample": smp_metrics}}
        for level in ["cycle", "sample"]:
            print(f"== {level}")
            for kind in cv["metrics"][level]:
                for c in H.COMPONENTS:
                    m = cv["metrics"][level][kind][c]
                    print(f"  {kind:8s} {c:12s} fpr={m['fpr']:.4f} recall={m['recall']:.4f} acc={m['accuracy']:.4f} "
                          f"f1={m['macroF1']:.4f} condAcc={m['conditionAccuracy']:.4f}")

    if cv is None and args.cv_from:
        with open(os.path.join(out, "manifest.json")) as f:
            src = next(v for v in json.load(f)["versions"] if v["version"] == args.cv_from)
        if src["training"]["dataSha256"] != data_digest(args.data):
            raise SystemExit(f"--cv-from {args.cv_from}: trained on other data")
        cv = {**src["cv"], "protocol": src["cv"]["protocol"] + f" (fold models shared with {args.cv_from}: same recipe and seeds)"}

    # ---------------- production models on all cycles
    all_idx = np.arange(n)
    wm, sm, thr, files = fit_all(all_idx, SEED, vdir)
    print(f"production thresholds {thr}", flush=True)

    # Adaptive-threshold baseline: per-sensor cycle means (window) and raw values (sample) of
    # cycles whose four components are all healthy.
    healthy = np.all(np.stack([Y[c] == 0 for c in H.COMPONENTS]), axis=0)
    base_idx = np.where(healthy)[0] if healthy.sum() >= 20 else all_idx
    cm = W[base_idx].mean(axis=1)
    raw = W[base_idx].reshape(-1, W.shape[2])
    sensors = []
    allv = W.reshape(-1, W.shape[2])
    for j, s in enumerate(H.SENSORS):
        lo, hi = float(allv[:, j].min()), float(allv[:, j].max())
        span = hi - lo
        # plausible input range for validation: the training range widened by half its span; quantities
        # that cannot be negative (all but temperatures) may read down to -1 (zero-point offsets)
        low = float(np.floor(lo - 0.5 * span - 1))
        if not s.startswith("TS"):
            low = -1.0
        sensors.append({"id": s, "unit": H.UNITS[s], "min": low, "max": float(np.ceil(hi + 0.5 * span + 1))})

    # ---------------- test vectors (production models, Python library outputs)
    tv_dir = os.path.join(out, "test-vectors")
    os.makedirs(tv_dir, exist_ok=True)
    pick = np.unique(np.linspace(0, n - 1, 32).round().astype(int))
    Xp = Xw[pick]
    vec = {"profile": "hydraulic-17", "version": VERSION, "families": FAMILIES, "sensors": H.SENSORS, "featureNames": wnames,
           "cases": []}
    probs = {k: predict_family(k, wm[k], Xp) for k in FAMILIES}
    for j, i in enumerate(pick):
        vec["cases"].append({
            "cycleIndex": int(i), "cycle": int(cycles[i]),
            "labels": {c: int(labels[c][i]) for c in H.COMPONENTS},
            "window": [[float(v) for v in row] for row in W[i]],
            "features": [float(v) for v in Xp[j]],
            "probabilities": {k: {c: [float(v) for v in probs[k][c][j]] for c in H.COMPONENTS} for k in FAMILIES},
        })
    # 1.0.0 wrote hydraulic-17-{window,sample}.json (kept for its parity test); later versions are named
    with open(os.path.join(tv_dir, f"{VERSION}-window.json"), "w") as f:
        json.dump(vec, f)
    srows = np.stack([W[i, (7 * j) % 60, :] for j, i in enumerate(pick)])
    Xsp, _ = FE.sample_features(srows)
    sprobs = {k: predict_family(k, sm[k], Xsp) for k in SAMPLE_FAMILIES}
    svec = {"profile": "hydraulic-17", "version": VERSION, "families": SAMPLE_FAMILIES, "sensors": H.SENSORS, "featureNames": snames, "cases": []}
    for j, i in enumerate(pick):
        svec["cases"].append({
            "cycleIndex": int(i), "second": int((7 * j) % 60),
            "values": [float(v) for v in srows[j]], "features": [float(v) for v in Xsp[j]],
            "probabilities": {k: {c: [float(v) for v in sprobs[k][c][j]] for c in H.COMPONENTS} for k in SAMPLE_FAMILIES},
        })
    with open(os.path.join(tv_dir, f"{VERSION}-sample.json"), "w") as f:
        json.dump(svec, f)

    # ---------------- manifest
    fileinfo = lambda name, p, nf: {"path": rel(p), "sha256": sha256(p), "input": "features",
                                    "inputShape": [-1, nf],
                                    "outputs": {c: f"{c}_probabilities" for c in H.COMPONENTS}}
    version = {
        "version": VERSION,
        # when this version entered the registry (GET /api/v1/models shows it)
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "profile": "hydraulic-17",
        "dutyCycleSeconds": 60,
        "sampleRateHz": 1,
        "sensors": sensors,
        "components": {c: {"conditions": H.CONDITIONS[c], "healthy": H.CONDITIONS[c][0],
                           "severity": {str(k): v for k, v in H.SEVERITY[c].items()}} for c in H.COMPONENTS},
        "features": {"window": wnames, "sample": snames},
        "models": {k: fileinfo(k, files[k], len(wnames)) for k in FAMILIES},
        "sampleModels": {k: fileinfo(k, files[f"{k}-sample"], len(snames)) for k in SAMPLE_FAMILIES},
        "ensemble": {"weights": {**WEIGHTS, "adaptive": 0.5}, "componentWeights": COMPONENT_WEIGHTS, "thresholds": thr,
                     "sampleThresholds": {k: {c: SAMPLE_THRESHOLD for c in H.COMPONENTS} for k in SAMPLE_FAMILIES + ["ensemble"]}},
        "adaptive": {
            "window": {"features": [f"{s}.mean" for s in H.SENSORS], "mean": [float(v) for v in cm.mean(axis=0)],
                       "std": [float(max(v, 1e-3)) for v in cm.std(axis=0)]},
            "sample": {"features": list(H.SENSORS), "mean": [float(v) for v in raw.mean(axis=0)],
                       "std": [float(max(v, 1e-3)) for v in raw.std(axis=0)]},
            "alpha": 0.05, "k": 6.0, "warmup": 10, "minSensors": 2,
        },
        "training": {
            "seed": SEED, "dataSha256": data_digest(args.data), "cycles": int(n),
            "baselineCycles": int(len(base_idx)),
            "hyperparameters": {"window": {k: {kk: (list(vv) if isinstance(vv, tuple) else vv) for kk, vv in v.items()} for k, v in WINDOW_HP.items()},
                                "sample": {k: {kk: (list(vv) if isinstance(vv, tuple) else vv) for kk, vv in v.items()} for k, v in SAMPLE_HP.items()},
                                "sampleStride": SAMPLE_STRIDE, "lrFeatures": int(LR_MASK.sum()), "innerFolds": INNER_FOLDS, "maxInnerFpr": MAX_INNER_FPR},
            "libraries": {"python": platform.python_version(), "numpy": np.__version__, "sklearn": sklearn.__version__,
                          "xgboost": xgb.__version__},
        },
        "cv": cv,
        "operatingConditions": operating_conditions(Xw, wnames, labels),
        "baseline": {"features": [nm for nm, m in zip(wnames, LR_MASK) if m], "commissioningWindows": BASELINE_COMMISSIONING,
                     "weight": BASELINE_WEIGHT, "components": BASELINE_COMPONENTS_BY_VERSION.get(VERSION, [])},
    }
    # every window model in one graph: what the service runs when all of them are enabled
    version["windowBundle"] = bundle_version(out, version)
    mpath = os.path.join(out, "manifest.json")
    manifest = {"schemaVersion": 1, "active": VERSION, "versions": []}
    if os.path.exists(mpath):
        with open(mpath) as f:
            old = json.load(f)
        manifest["versions"] = [v for v in old.get("versions", []) if v.get("version") != VERSION]
        manifest["active"] = old.get("active", VERSION) if any(v["version"] == old.get("active") for v in manifest["versions"]) else VERSION
    manifest["versions"].append(version)
    if args.activate or not manifest["versions"][:-1]:
        manifest["active"] = VERSION
    with open(mpath, "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    print(f"done in {time.time() - t0:.1f}s -> {mpath}", flush=True)


if __name__ == "__main__":
    main()
