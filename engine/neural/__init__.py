"""Neural strategies: LSTM and Transformer models that label bars Buy / Hold / Sell.

Public names (heavy ones — anything that needs torch — load on first use)::

    TrainConfig, make_config                      engine.neural.config
    train_model(cfg, *, on_epoch=None, data=None) -> TrainResult   saves the file, no registry
    load_model_file(path, *, expected_hash=None) -> LoadedModel   hash-checked, weights_only=True
    predict(loaded, data) -> pl.DataFrame         timestamp, prob_sell, prob_hold, prob_buy, label
    Window, newest_window, last_bars_window, training_config, context_bars   engine.neural.window
    evaluate_window(loaded, data, *, start=None) -> {"accuracy", "return_pct", "n", ...}
    score_predictions(data, ends, proba, ...), window_equity(loaded, data, start)
    start_training_job(cfg) -> job_id             background, in a subprocess
    get_training_run(run_id), list_training_runs()
    set_torch_threads(n=None)                     all cores but one (call once per process)
    FEATURE_NAMES, CLASS_NAMES

Registering a trained model and loading one by version id are the registry's
(``engine.registry.train_version``, ``engine.registry.load_version``): this package never
imports the registry. See docs/neural.md for the features, labels, split, models, files and
strategy rule.
"""

from __future__ import annotations

from typing import Any

from engine.neural.config import CLASS_NAMES, TrainConfig, make_config
from engine.neural.features import FEATURE_NAMES

_LAZY = {
    "TrainResult": "engine.neural.pipeline",
    "LoadedModel": "engine.neural.pipeline",
    "train_model": "engine.neural.pipeline",
    "load_model_file": "engine.neural.pipeline",
    "predict": "engine.neural.pipeline",
    "predict_proba": "engine.neural.pipeline",
    "DEFAULT_MIN_WINDOW_BARS": "engine.neural.window",
    "DEFAULT_WINDOW_DAYS": "engine.neural.window",
    "Window": "engine.neural.window",
    "context_bars": "engine.neural.window",
    "evaluate_window": "engine.neural.window",
    "last_bars_window": "engine.neural.window",
    "newest_window": "engine.neural.window",
    "score_predictions": "engine.neural.window",
    "training_config": "engine.neural.window",
    "window_equity": "engine.neural.window",
    "start_training_job": "engine.neural.jobs",
    "get_training_run": "engine.neural.jobs",
    "list_training_runs": "engine.neural.jobs",
    "create_training_run": "engine.neural.jobs",
    "set_torch_threads": "engine.neural.training",
}

__all__ = ["CLASS_NAMES", "FEATURE_NAMES", "TrainConfig", "make_config", *_LAZY]


def __getattr__(name: str) -> Any:
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module 'engine.neural' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(mod), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
