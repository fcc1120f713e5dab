"""H-ELM: hierarchical extreme learning machine (Tang, Deng, Huang 2016), numpy only.

Structure (shared by all components, one output layer for all of them):
  z0 = (x - mu) / sd                                   standardisation from the training set
  z1 = tanh(z0 @ W1)   z2 = tanh(z1 @ W2)              ELM auto-encoder layers: a random tanh layer
                                                       H = tanh(z A + b) is fitted to reconstruct z by
                                                       ridge, beta = argmin |H beta - z|^2 + l|beta|^2,
                                                       and beta^T (scaled to unit output spread) is the
                                                       layer's encoder (L2 instead of the paper's L1)
  t  = tanh(z2 @ R + r)                                random enhancement layer
  s  = [t, z2] @ B + c                                 ridge output layer, one-hot targets of every
                                                       component's classes side by side
  p_c = softmax(tau_c * s[:, slice_c])                 per component
Inference is float32, the same ops as the ONNX graph (MatMul/Add/Mul/Sub/Tanh/Concat/Slice/Softmax).
"""
from __future__ import annotations

import numpy as np


class HELM:
    def __init__(self, ae_sizes=(96, 64), enhance=256, ae_lambda=1.0, out_lambda=10.0, seed=0):
        self.ae_sizes = tuple(ae_sizes)
        self.enhance = enhance
        self.ae_lambda = ae_lambda
        self.out_lambda = out_lambda
        self.seed = seed

    @staticmethod
    def _ridge(H, T, lam):
        A = H.T @ H + lam * np.eye(H.shape[1])
        return np.linalg.solve(A, H.T @ T)

    def fit(self, X, targets: dict, n_classes: dict):
        """targets: component -> class index array; n_classes: component -> K."""
        rng = np.random.RandomState(self.seed)
        X = np.asarray(X, dtype=np.float64)
        self.mu = X.mean(axis=0)
        sd = X.std(axis=0)
        self.sd = np.where(sd < 1e-9, 1.0, sd)
        z = (X - self.mu) / self.sd
        self.W = []
        for h in self.ae_sizes:
            d = z.shape[1]
            A = rng.normal(0.0, 1.0 / np.sqrt(d), size=(d, h))
            b = rng.normal(0.0, 0.5, size=h)
            H = np.tanh(z @ A + b)
            beta = self._ridge(H, z, self.ae_lambda)  # (h, d)
            W = beta.T
            W = W / (np.std(z @ W) + 1e-12)
            self.W.append(W)
            z = np.tanh(z @ W)
        d = z.shape[1]
        self.R = rng.normal(0.0, 1.0 / np.sqrt(d), size=(d, self.enhance)) * 2.0
        self.r = rng.normal(0.0, 0.5, size=self.enhance)
        t = np.tanh(z @ self.R + self.r)
        F = np.concatenate([t, z], axis=1)
        self.components = list(targets.keys())
        self.slices, Y, off = {}, [], 0
        for c in self.components:
            K = n_classes[c]
            onehot = np.zeros((len(F), K))
            onehot[np.arange(len(F)), targets[c]] = 1.0
            Y.append(onehot)
            self.slices[c] = (off, off + K)
            off += K
        Y = np.concatenate(Y, axis=1)
        fm = F.mean(axis=0)
        ym = Y.mean(axis=0)
        self.B = self._ridge(F - fm, Y - ym, self.out_lambda)
        self.c = ym - fm @ self.B
        S = F @ self.B + self.c
        self.tau = {}
        for comp in self.components:
            a, b = self.slices[comp]
            best = None
            for tau in [1, 2, 3, 4, 6, 8, 10, 12, 15, 20]:
                p = _softmax(tau * S[:, a:b])
                ll = -np.mean(np.log(p[np.arange(len(p)), targets[comp]] + 1e-12))
                if best is None or ll < best[0] - 1e-12:
                    best = (ll, tau)
            self.tau[comp] = float(best[1])
        return self

    def params32(self):
        f = lambda a: np.asarray(a, dtype=np.float32)
        return {"mu": f(self.mu), "inv_sd": f(1.0 / self.sd), "W": [f(w) for w in self.W],
                "R": f(self.R), "r": f(self.r), "B": f(self.B), "c": f(self.c)}

    def predict_proba(self, X):
        """float32 pipeline identical to the exported ONNX graph; returns component -> (n, K)."""
        p = self.params32()
        z = (np.asarray(X, dtype=np.float32) - p["mu"]) * p["inv_sd"]
        for W in p["W"]:
            z = np.tanh(z @ W)
        t = np.tanh(z @ p["R"] + p["r"])
        S = np.concatenate([t, z], axis=1) @ p["B"] + p["c"]
        out = {}
        for comp in self.components:
            a, b = self.slices[comp]
            out[comp] = _softmax(np.float32(self.tau[comp]) * S[:, a:b]).astype(np.float32)
        return out


def _softmax(s):
    s = s - s.max(axis=1, keepdims=True)
    e = np.exp(s)
    return e / e.sum(axis=1, keepdims=True)
