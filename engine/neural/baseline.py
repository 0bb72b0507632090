"""The simple models every neural model is compared with.

- **Logistic regression** (numpy): multinomial softmax regression on the same 10 scaled
  features *of the window's last bar*, class-weighted like the neural loss, L2 penalty
  ``1e-3``, fitted by full-batch gradient descent (500 steps, Adam, learning rate 0.05,
  zero start — deterministic). Published comparisons find such simple models often match
  LSTMs on market data, so the page always shows both.
- **Majority class**: always predicts the most frequent training class.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


@dataclass
class LogisticBaseline:
    weights: np.ndarray  # (n_features, k)
    bias: np.ndarray  # (k,)

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray, *, class_weights: np.ndarray | None = None,
            k: int = 3, l2: float = 1e-3, steps: int = 500, lr: float = 0.05
            ) -> LogisticBaseline:
        x = np.asarray(x, np.float64)
        y = np.asarray(y, np.int64)
        n, d = x.shape
        onehot = np.eye(k)[y]
        sw = (np.ones(n) if class_weights is None else np.asarray(class_weights)[y])
        sw = sw / sw.sum()
        params = [np.zeros((d, k)), np.zeros(k)]
        m = [np.zeros_like(p) for p in params]
        v = [np.zeros_like(p) for p in params]
        b1, b2, eps = 0.9, 0.999, 1e-8
        for t in range(1, steps + 1):
            p = _softmax(x @ params[0] + params[1])
            g = (p - onehot) * sw[:, None]
            grads = [x.T @ g + l2 * params[0], g.sum(axis=0)]
            for i, gr in enumerate(grads):
                m[i] = b1 * m[i] + (1 - b1) * gr
                v[i] = b2 * v[i] + (1 - b2) * gr * gr
                mh, vh = m[i] / (1 - b1 ** t), v[i] / (1 - b2 ** t)
                params[i] = params[i] - lr * mh / (np.sqrt(vh) + eps)
        return cls(params[0], params[1])

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return _softmax(np.asarray(x, np.float64) @ self.weights + self.bias)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.predict_proba(x).argmax(axis=1)


def majority_class(y_train: np.ndarray, k: int = 3) -> int:
    """The most frequent training class (ties: the lower class index)."""
    return int(np.argmax(np.bincount(np.asarray(y_train, np.int64), minlength=k)))
