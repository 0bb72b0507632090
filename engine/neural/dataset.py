"""Labels, windows and the chronological train / validation / test split.

- **Label** of bar ``t`` (horizon ``h``, threshold ``θ``): the forward return
  ``r = close[t+h] / close[t] − 1``; class 2 ``buy`` if ``r > θ``, 0 ``sell`` if ``r < −θ``,
  1 ``hold`` otherwise. The last ``h`` bars have no label.
- **Sample** ``t``: the window of feature rows ``t−L+1 … t`` (``L`` = sequence length) and
  the label of bar ``t``. A sample exists when its window is past the features' warm-up and
  its label is defined.
- **Split**: samples in time order, train first, then validation, then test
  (``val_fraction`` / ``test_fraction`` of them), with ``gap = h`` samples dropped between
  parts. So the last training label (which reads ``close[t_train + h]``) ends before the
  first validation bar, and the same between validation and test: nothing a later part
  knows leaks into an earlier one. Changing any bar after ``split.train_end + h`` changes
  neither the training samples nor the scaler (a test checks it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.errors import DataError
from engine.neural.features import WARMUP

SELL, HOLD, BUY = 0, 1, 2


def make_labels(close: np.ndarray, horizon: int, threshold: float) -> np.ndarray:
    """int64 class per bar (−1 where the label is undefined: the last ``horizon`` bars)."""
    close = np.asarray(close, dtype=np.float64)
    y = np.full(close.shape[0], -1, dtype=np.int64)
    if close.shape[0] > horizon:
        fwd = close[horizon:] / close[:-horizon] - 1.0
        lab = np.full(fwd.shape[0], HOLD, dtype=np.int64)
        lab[fwd > threshold] = BUY
        lab[fwd < -threshold] = SELL
        y[: fwd.shape[0]] = lab
    return y


def first_window_end(sequence_length: int) -> int:
    """The first bar whose window lies wholly after the features' warm-up."""
    return WARMUP + sequence_length - 1


@dataclass(frozen=True)
class Split:
    """Window-end bar indices of each part (inclusive ranges) and the gap used."""

    train: tuple[int, int]
    val: tuple[int, int]
    test: tuple[int, int]
    gap: int

    @property
    def train_end(self) -> int:
        return self.train[1]

    def indices(self, part: str) -> np.ndarray:
        lo, hi = getattr(self, part)
        return np.arange(lo, hi + 1, dtype=np.int64)

    def sizes(self) -> dict[str, int]:
        return {p: getattr(self, p)[1] - getattr(self, p)[0] + 1 for p in ("train", "val", "test")}

    def to_dict(self) -> dict:
        return {"train": list(self.train), "val": list(self.val), "test": list(self.test),
                "gap": self.gap}


def chronological_split(n_bars: int, *, sequence_length: int, horizon: int,
                        val_fraction: float, test_fraction: float,
                        min_part: int = 8) -> Split:
    """Split the labelled windows of ``n_bars`` bars into train / val / test (see module)."""
    lo = first_window_end(sequence_length)
    hi = n_bars - 1 - horizon  # last bar with a label
    n = hi - lo + 1
    gap = horizon
    usable = n - 2 * gap
    n_test = int(round(usable * test_fraction))
    n_val = int(round(usable * val_fraction))
    n_train = usable - n_val - n_test
    if min(n_train, n_val, n_test) < min_part:
        need = lo + horizon + 2 * gap + int(np.ceil(min_part / min(val_fraction, test_fraction,
                                                                   0.2)))
        raise DataError(
            f"{n_bars} bars give too few samples (train {max(n_train, 0)}, validation "
            f"{max(n_val, 0)}, test {max(n_test, 0)}) for windows of {sequence_length} bars, "
            f"a {WARMUP}-bar warm-up and horizon {horizon}; use at least ~{need} bars, a "
            "shorter sequence length or a wider date range"
        )
    tr = (lo, lo + n_train - 1)
    va = (tr[1] + gap + 1, tr[1] + gap + n_val)
    te = (va[1] + gap + 1, va[1] + gap + n_test)
    assert te[1] == hi
    return Split(tr, va, te, gap)


def window_index(ends: np.ndarray, sequence_length: int) -> np.ndarray:
    """``(len(ends), L)`` row indices of the windows ending at ``ends``."""
    offs = np.arange(-sequence_length + 1, 1, dtype=np.int64)
    return np.asarray(ends, dtype=np.int64)[:, None] + offs[None, :]


def windows(features: np.ndarray, ends: np.ndarray, sequence_length: int) -> np.ndarray:
    """``(len(ends), L, n_features)`` float32 windows (a copy; use for small batches)."""
    return features[window_index(ends, sequence_length)].astype(np.float32)


def prediction_ends(n_bars: int, sequence_length: int, start: int = 0) -> np.ndarray:
    """Bars (>= ``start``) at which a full window exists — where a model can predict."""
    lo = max(first_window_end(sequence_length), start)
    return np.arange(lo, n_bars, dtype=np.int64)
