"""Feature extraction. The TypeScript port (src/inference/features/) must match this exactly;
keep every formula elementary (means, population std, OLS slope, safe ratios).

Window features: one duty cycle, 60 x 17 (seconds x sensors, order SENSORS).
Sample features: one 1-Hz row of 17 values.
"""
from __future__ import annotations

import numpy as np
from hydraulic import SENSORS

S = {s: i for i, s in enumerate(SENSORS)}
# Steady parts of the six load phases of the 60-s cycle (half-open second ranges).
PHASES = [(1, 9), (11, 19), (21, 29), (31, 39), (41, 49), (51, 60)]
# Seconds where the load switches (transition values carry timing information at 1 Hz).
TRANSITIONS = [0, 1, 2, 9, 10, 19, 20, 29, 30, 39, 40, 49, 50]
TPAIRS = [9, 10, 19, 20, 29, 30, 39, 40, 49, 50]
TSWITCH = [9, 19, 29, 39, 49]
DYN = ["PS1", "PS2", "PS3", "EPS1", "FS1", "SE"]
EPS = 1e-9


def sdiv(a, b):
    """a / b, 0 where |b| < 1e-9."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    ok = np.abs(b) >= EPS
    return np.where(ok, a / np.where(ok, b, 1.0), 0.0)


def _mean(x, axis):
    return x.sum(axis=axis) / x.shape[axis]


def _std(x, axis):
    m = _mean(x, axis)
    d = x - np.expand_dims(m, axis)
    return np.sqrt((d * d).sum(axis=axis) / x.shape[axis])


def window_features(W: np.ndarray):
    """W: (n, 60, 17) -> (n, F) float64, names."""
    W = np.asarray(W, dtype=np.float64)
    n = W.shape[0]
    cols, names = [], []

    def add(v, name):
        cols.append(np.asarray(v, dtype=np.float64).reshape(n))
        names.append(name)

    t = np.arange(60, dtype=np.float64) - 29.5
    tt = float((t * t).sum())
    for s in SENSORS:
        x = W[:, :, S[s]]
        m = _mean(x, 1)
        add(m, f"{s}.mean")
        add(_std(x, 1), f"{s}.std")
        add(x.min(axis=1), f"{s}.min")
        add(x.max(axis=1), f"{s}.max")
        add(((x - m[:, None]) * t[None, :]).sum(axis=1) / tt, f"{s}.slope")
        add(x[:, 59] - x[:, 0], f"{s}.delta")
    pm = {}
    for s in SENSORS:
        x = W[:, :, S[s]]
        for k, (a, b) in enumerate(PHASES):
            pm[(s, k)] = _mean(x[:, a:b], 1)
            add(pm[(s, k)], f"{s}.p{k}.mean")
    for s in DYN:
        x = W[:, :, S[s]]
        for k, (a, b) in enumerate(PHASES):
            add(_std(x[:, a:b], 1), f"{s}.p{k}.std")
    for s in DYN:
        x = W[:, :, S[s]]
        for sec in TRANSITIONS:
            add(x[:, sec], f"{s}.t{sec}")
    # Normalised position of the transition seconds between the neighbouring phase levels
    # (0 = still at the previous level, 1 = already settled at the next): timing of rise/fall.
    for s in ["PS1", "PS2", "PS3", "EPS1", "FS1"]:
        x = W[:, :, S[s]]
        for sec, k in [(9, 0), (10, 0), (19, 1), (20, 1), (29, 2), (30, 2), (39, 3), (40, 3), (49, 4), (50, 4)]:
            add(sdiv(x[:, sec] - pm[(s, k)], pm[(s, k + 1)] - pm[(s, k)]), f"{s}.t{sec}.frac")
        for sec in [0, 1, 2]:
            add(sdiv(x[:, sec], pm[(s, 0)]), f"{s}.t{sec}.rel")
    # Differences between the transition seconds of one sensor: the relative size of the switching
    # transients is what the accumulator (and valve lag) change, largely independent of oil temperature.
    for s, secs in [("FS1", TPAIRS), ("SE", TPAIRS), ("PS3", TPAIRS), ("PS1", TSWITCH), ("PS2", TSWITCH), ("EPS1", TSWITCH)]:
        x = W[:, :, S[s]]
        for i in range(len(secs)):
            for j in range(i + 1, len(secs)):
                add(x[:, secs[i]] - x[:, secs[j]], f"{s}.t{secs[i]}-t{secs[j]}")
    # Step heights between phases.
    for s in ["PS1", "PS2", "EPS1", "SE"]:
        for k in range(1, 6):
            add(pm[(s, k)] - pm[(s, k - 1)], f"{s}.step{k}")
    # Ratios / differences between sensors per phase.
    for k in range(6):
        add(pm[("PS1", k)] - pm[("PS2", k)], f"PS1-PS2.p{k}")
    for k in range(1, 6):
        add(sdiv(pm[("PS1", k)], pm[("PS2", k)]), f"PS1/PS2.p{k}")
        add(sdiv(pm[("EPS1", k)], pm[("FS1", k)]), f"EPS1/FS1.p{k}")
        add(sdiv(pm[("PS1", k)] * pm[("FS1", k)], pm[("EPS1", k)]), f"PS1*FS1/EPS1.p{k}")
        add(sdiv(pm[("PS3", k)], pm[("FS1", k)]), f"PS3/FS1.p{k}")
    mean = {s: _mean(W[:, :, S[s]], 1) for s in SENSORS}
    add(sdiv(mean["FS1"], mean["FS2"]), "FS1/FS2")
    add(sdiv(mean["CE"], mean["CP"]), "CE/CP")
    add(sdiv(mean["EPS1"], mean["PS1"]), "EPS1/PS1")
    for a, b in [("TS1", "TS2"), ("TS1", "TS3"), ("TS1", "TS4"), ("TS2", "TS3"), ("TS3", "TS4"), ("PS5", "PS6")]:
        add(mean[a] - mean[b], f"{a}-{b}")
    add(sdiv(mean["PS5"], mean["TS1"]), "PS5/TS1")
    add(sdiv(mean["FS2"], mean["TS1"]), "FS2/TS1")
    X = np.stack(cols, axis=1)
    return X, names


def sample_features(R: np.ndarray):
    """R: (n, 17) -> (n, F) float64, names."""
    R = np.asarray(R, dtype=np.float64)
    cols = [R[:, i] for i in range(len(SENSORS))]
    names = list(SENSORS)
    g = lambda s: R[:, S[s]]
    extra = [
        ("PS1-PS2", g("PS1") - g("PS2")),
        ("PS1/PS2", sdiv(g("PS1"), g("PS2"))),
        ("EPS1/FS1", sdiv(g("EPS1"), g("FS1"))),
        ("PS1*FS1/EPS1", sdiv(g("PS1") * g("FS1"), g("EPS1"))),
        ("PS3/FS1", sdiv(g("PS3"), g("FS1"))),
        ("FS1/FS2", sdiv(g("FS1"), g("FS2"))),
        ("CE/CP", sdiv(g("CE"), g("CP"))),
        ("EPS1/PS1", sdiv(g("EPS1"), g("PS1"))),
        ("TS1-TS2", g("TS1") - g("TS2")),
        ("TS1-TS3", g("TS1") - g("TS3")),
        ("TS1-TS4", g("TS1") - g("TS4")),
        ("PS5-PS6", g("PS5") - g("PS6")),
        ("PS5/TS1", sdiv(g("PS5"), g("TS1"))),
        ("FS2/TS1", sdiv(g("FS2"), g("TS1"))),
    ]
    for nme, v in extra:
        cols.append(v)
        names.append(nme)
    return np.stack(cols, axis=1), names
