"""Classification metrics of a model's test-period predictions (numpy, no sklearn).

``classification_metrics(y_true, y_pred)`` returns::

    {"accuracy": 0.61, "n": 375,
     "per_class": {"sell": {"precision", "recall", "f1", "support"}, "hold": …, "buy": …},
     "confusion_matrix": [[…], […], […]]}   # rows: true class, columns: predicted class

Precision of a class never predicted is ``None`` (undefined), as is recall of a class that
never occurs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.neural.config import CLASS_NAMES


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, k: int = 3) -> np.ndarray:
    cm = np.zeros((k, k), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_true, np.int64), np.asarray(y_pred, np.int64)), 1)
    return cm


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float | None:
    y_true = np.asarray(y_true)
    return float(np.mean(y_true == np.asarray(y_pred))) if y_true.size else None


def classification_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, Any]:
    cm = confusion_matrix(y_true, y_pred, len(CLASS_NAMES))
    per_class: dict[str, dict[str, Any]] = {}
    for c, name in enumerate(CLASS_NAMES):
        tp = int(cm[c, c])
        pred_c, true_c = int(cm[:, c].sum()), int(cm[c, :].sum())
        prec = tp / pred_c if pred_c else None
        rec = tp / true_c if true_c else None
        f1 = (2 * prec * rec / (prec + rec)) if prec and rec else (0.0 if pred_c and true_c
                                                                    else None)
        per_class[name] = {"precision": prec, "recall": rec, "f1": f1, "support": true_c}
    return {"accuracy": accuracy(y_true, y_pred), "n": int(np.asarray(y_true).size),
            "per_class": per_class, "confusion_matrix": cm.tolist()}


def class_counts(y: np.ndarray) -> dict[str, int]:
    counts = np.bincount(np.asarray(y, np.int64), minlength=len(CLASS_NAMES))
    return {name: int(counts[i]) for i, name in enumerate(CLASS_NAMES)}
