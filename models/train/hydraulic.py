"""Loader for the UCI "Condition monitoring of hydraulic systems" layout (one file per sensor).

Accepts both layouts:
  * the project layout: every sensor 60 values per row (1 Hz);
  * the original UCI download: PS1-6/EPS1 6000 values (100 Hz), FS1-2 600 (10 Hz), the rest 60.
Rows with more than 60 values are averaged down to 60 one-second means (blocks of n/60 values).
"""
from __future__ import annotations

import os
import numpy as np

SENSORS = ["PS1", "PS2", "PS3", "PS4", "PS5", "PS6", "EPS1", "FS1", "FS2",
           "TS1", "TS2", "TS3", "TS4", "VS1", "CE", "CP", "SE"]
UNITS = {"PS1": "bar", "PS2": "bar", "PS3": "bar", "PS4": "bar", "PS5": "bar", "PS6": "bar",
         "EPS1": "W", "FS1": "l/min", "FS2": "l/min", "TS1": "°C", "TS2": "°C", "TS3": "°C",
         "TS4": "°C", "VS1": "mm/s", "CE": "%", "CP": "kW", "SE": "%"}
SECONDS = 60
COMPONENTS = ["cooler", "valve", "pump", "accumulator"]
# First value = healthy. Class index k of every model = position in this list.
CONDITIONS = {
    "cooler": [100, 20, 3],
    "valve": [100, 90, 80, 73],
    "pump": [0, 1, 2],
    "accumulator": [130, 115, 100, 90],
}
SEVERITY = {
    "cooler": {100: "none", 20: "high", 3: "critical"},
    "valve": {100: "none", 90: "medium", 80: "high", 73: "critical"},
    "pump": {0: "none", 1: "medium", 2: "high"},
    "accumulator": {130: "none", 115: "medium", 100: "high", 90: "critical"},
}


def _read_matrix(path: str) -> np.ndarray:
    rows = []
    with open(path, "r", encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                rows.append([float(v) for v in line.split()])
    width = {len(r) for r in rows}
    if len(width) != 1:
        raise ValueError(f"{path}: rows have different lengths {sorted(width)}")
    return np.asarray(rows, dtype=np.float64)


def to_1hz(m: np.ndarray, name: str) -> np.ndarray:
    n = m.shape[1]
    if n == SECONDS:
        return m
    if n % SECONDS != 0:
        raise ValueError(f"{name}: {n} values per row is not a multiple of {SECONDS}")
    return m.reshape(m.shape[0], SECONDS, n // SECONDS).mean(axis=2)


def load(directory: str):
    """Returns X (n_cycles, 60, 17) float64, labels dict component->condition array (or None),
    stable flag (or None), cycle numbers (1-based original ids)."""
    mats = []
    for s in SENSORS:
        p = os.path.join(directory, f"{s}.txt")
        if not os.path.exists(p):
            raise FileNotFoundError(f"missing sensor file {p}")
        mats.append(to_1hz(_read_matrix(p), s))
    n = {m.shape[0] for m in mats}
    if len(n) != 1:
        raise ValueError(f"sensor files have different row counts: {sorted(n)}")
    X = np.stack(mats, axis=2)  # (n, 60, 17)
    labels = stable = None
    prof = os.path.join(directory, "profile.txt")
    if os.path.exists(prof):
        P = _read_matrix(prof).astype(np.int64)
        labels = {c: P[:, i] for i, c in enumerate(COMPONENTS)}
        stable = P[:, 4] if P.shape[1] > 4 else None
    cyc = os.path.join(directory, "cycles.txt")
    cycles = (_read_matrix(cyc)[:, 0].astype(np.int64) if os.path.exists(cyc)
              else np.arange(1, X.shape[0] + 1))
    return X, labels, stable, cycles


def class_index(component: str, conditions: np.ndarray) -> np.ndarray:
    lst = CONDITIONS[component]
    out = np.empty(len(conditions), dtype=np.int64)
    for i, v in enumerate(conditions):
        out[i] = lst.index(int(v))
    return out
