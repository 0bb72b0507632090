"""The ensemble vote: a weighted vote of member signals, with a threshold.

At each bar ``t`` the vote is ``v_t = Σ w_j s_j(t) / Σ w_j`` over the members' signals
``s_j(t) ∈ {−1, 0, +1}``; the ensemble signals ``+1`` when ``v_t >= threshold``, ``−1`` when
``v_t <= −threshold``, else ``0``. Weights are ``equal`` (1 each) or ``sharpe``: each
member's trailing Sharpe ratio (mean / standard deviation of per-bar returns, not annualised)
over the last ``window`` bars of the position its own signals hold (long after +1 until −1,
flat otherwise), floored at 0 — a member losing money gets no vote; when every weight is 0
the ensemble says nothing. Everything at ``t`` uses bars up to ``t`` only.
"""

from __future__ import annotations

import numpy as np


def member_positions(signals: np.ndarray) -> np.ndarray:
    """The long/flat position (1 / 0) held at each close by following ``signals``."""
    pos = np.zeros(signals.shape[0])
    held = 0.0
    for t, s in enumerate(signals):
        if s > 0:
            held = 1.0
        elif s < 0:
            held = 0.0
        pos[t] = held
    return pos


def trailing_sharpe(signals: np.ndarray, close: np.ndarray, window: int) -> np.ndarray:
    """Each bar's Sharpe (mean/std of the last ``window`` position returns; 0 before)."""
    n = close.shape[0]
    ret = np.zeros(n)
    pos = member_positions(signals)
    ret[1:] = pos[:-1] * (close[1:] / close[:-1] - 1.0)
    out = np.zeros(n)
    for t in range(window, n):
        r = ret[t - window + 1:t + 1]
        sd = r.std(ddof=1)
        out[t] = r.mean() / sd if sd > 0 else 0.0
    return out


def vote(member_signals: list[np.ndarray], close: np.ndarray, *, weighting: str = "equal",
         window: int = 60, threshold: float = 0.5) -> np.ndarray:
    """The ensemble's int8 signals from its members' (see the module docstring)."""
    if not member_signals:
        raise ValueError("an ensemble needs at least one member")
    s = np.stack([np.asarray(m, np.float64) for m in member_signals])
    if weighting == "equal":
        w = np.ones_like(s)
    elif weighting == "sharpe":
        w = np.stack([np.maximum(trailing_sharpe(m, close, window), 0.0)
                      for m in member_signals])
    else:
        raise ValueError(f"weighting {weighting!r} is not equal or sharpe")
    total = w.sum(axis=0)
    v = np.where(total > 0, (w * s).sum(axis=0) / np.where(total > 0, total, 1.0), 0.0)
    out = np.zeros(s.shape[1], np.int8)
    out[v >= threshold] = 1
    out[v <= -threshold] = -1
    return out
