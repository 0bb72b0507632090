"""Feature standardisation fitted on the training part only, stored as plain numbers.

``x' = clip((x − mean) / std, −CLIP, CLIP)`` per feature; ``mean``/``std`` come from the
feature rows the training windows cover (bars ``WARMUP … split.train_end``) and nothing
later. The scaler is stored inside the model file (as tensors, so the file hash covers it)
and as JSON beside it (``SCALER_STORAGE_PATH``) — never pickled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

CLIP = 10.0


@dataclass(frozen=True)
class Scaler:
    mean: np.ndarray
    std: np.ndarray
    clip: float = CLIP

    @classmethod
    def fit(cls, rows: np.ndarray) -> Scaler:
        rows = np.asarray(rows, dtype=np.float64)
        if rows.ndim != 2 or rows.shape[0] < 2 or not np.isfinite(rows).all():
            raise ValueError("the scaler needs >= 2 finite feature rows")
        mean = rows.mean(axis=0)
        std = rows.std(axis=0)
        std = np.where(std > 1e-12, std, 1.0)
        return cls(mean, std)

    def transform(self, x: np.ndarray) -> np.ndarray:
        z = (np.asarray(x, dtype=np.float64) - self.mean) / self.std
        return np.clip(z, -self.clip, self.clip)

    def to_dict(self) -> dict[str, Any]:
        return {"mean": [float(v) for v in self.mean], "std": [float(v) for v in self.std],
                "clip": float(self.clip)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Scaler:
        return cls(np.asarray(d["mean"], dtype=np.float64),
                   np.asarray(d["std"], dtype=np.float64), float(d.get("clip", CLIP)))
