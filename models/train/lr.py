"""Hierarchical L2 logistic regression ("lr" family), sklearn + numpy, hand-exportable to ONNX.

Per component c, on a fixed feature subset (mask; default the switching-transient features):
  z   = (x - mu) * inv_sd                      standardisation from the training set (inv_sd = 0 outside
                                               the subset, so unused features drop out)
  s_c = sigmoid(z @ w_c + b_c)                 binary L2 logistic regression: P(degraded)
  q_c = softmax(z @ V_c + d_c)                 multinomial L2 logistic regression over the degraded
                                               classes, fitted on the degraded training cycles only
  p_c = [1 - s_c, s_c * q_c]                   classes in manifest order, healthy first
Why: a linear model on the relative sizes of the switching transients extrapolates across oil
temperature regimes that a test block holds alone, where trees (rf, xgb) cannot (docs/models.md).
Inference in float32 mirrors the ONNX graph (Sub/Mul/MatMul/Add/Sigmoid/Softmax/Slice/Concat).
"""
from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression

ABSENT_LOGIT = -30.0  # bias of a degraded class absent from the training set


def transient_mask(names):
    """Window features about the switching transients: raw transition seconds, their normalised
    positions, start-up ratios and the differences between the transients of one sensor
    (all names containing '.t' except the temperature sensors)."""
    return np.array([(".t" in s) and not s.startswith("TS") for s in names], dtype=bool)


class HierLR:
    def __init__(self, mask, C=1.0, C_cond=1.0, max_iter=3000):
        self.mask = np.asarray(mask, dtype=bool)
        self.C = C
        self.C_cond = C_cond
        self.max_iter = max_iter

    def fit(self, X, Y: dict, ncls: dict):
        X = np.asarray(X, dtype=np.float64)
        F = X.shape[1]
        mu = X.mean(axis=0)
        sd = X.std(axis=0)
        inv = np.where((sd > 1e-9) & self.mask, 1.0 / np.where(sd > 1e-9, sd, 1.0), 0.0)
        self.mu = np.where(self.mask, mu, 0.0)
        self.inv_sd = inv
        Z = (X - self.mu) * self.inv_sd
        self.components = list(Y.keys())
        self.ncls = dict(ncls)
        self.w, self.b, self.V, self.d = {}, {}, {}, {}
        for c in self.components:
            y = np.asarray(Y[c])
            K = ncls[c]
            m = LogisticRegression(C=self.C, max_iter=self.max_iter)
            m.fit(Z, (y > 0).astype(int))
            self.w[c] = m.coef_[0].copy()
            self.b[c] = float(m.intercept_[0])
            V = np.zeros((F, K - 1))
            d = np.full(K - 1, ABSENT_LOGIT)
            deg = y > 0
            present = np.unique(y[deg])
            if len(present) == 1:
                d[present[0] - 1] = 0.0
            elif len(present) > 1:
                mm = LogisticRegression(C=self.C_cond, max_iter=self.max_iter)
                mm.fit(Z[deg], y[deg])
                if len(present) == 2:  # sklearn: one column, logit of the second class
                    V[:, present[1] - 1] = mm.coef_[0]
                    d[present[0] - 1] = 0.0
                    d[present[1] - 1] = float(mm.intercept_[0])
                else:
                    for j, k in enumerate(mm.classes_):
                        V[:, k - 1] = mm.coef_[j]
                        d[k - 1] = float(mm.intercept_[j])
            self.V[c], self.d[c] = V, d
        return self

    def params32(self):
        comps = self.components
        Wb = np.stack([self.w[c] for c in comps], axis=1).astype(np.float32)
        bb = np.array([self.b[c] for c in comps], dtype=np.float32)
        return {"mu": self.mu.astype(np.float32), "inv_sd": self.inv_sd.astype(np.float32), "Wb": Wb, "bb": bb,
                "V": {c: self.V[c].astype(np.float32) for c in comps}, "d": {c: self.d[c].astype(np.float32) for c in comps}}

    def predict_proba(self, X):
        """float32, the same operations as the ONNX graph."""
        p = self.params32()
        X = np.asarray(X, dtype=np.float32)
        Z = ((X - p["mu"]) * p["inv_sd"]).astype(np.float32)
        with np.errstate(over="ignore"):  # exp(large) = inf -> s = 0, as in ORT's Sigmoid
            S = 1.0 / (1.0 + np.exp(-(Z @ p["Wb"] + p["bb"]).astype(np.float64)))
        out = {}
        for i, c in enumerate(self.components):
            L = (Z @ p["V"][c] + p["d"][c]).astype(np.float64)
            L -= L.max(axis=1, keepdims=True)
            Q = np.exp(L)
            Q /= Q.sum(axis=1, keepdims=True)
            s = S[:, i:i + 1]
            out[c] = np.concatenate([1.0 - s, s * Q], axis=1)
        return out
