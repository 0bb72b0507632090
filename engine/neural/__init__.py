"""Neural strategies: LSTM and Transformer models that label bars Buy / Hold / Sell.

Public names (heavy ones — anything that needs torch — load on first use)::

    TrainConfig, make_config                      engine.neural.config
    train_model(cfg, *, on_epoch=None, created_by="user", parent_version=None,
                relationship="trained", register=True) -> TrainResult
    load_model(version_id) -> LoadedModel         hash-checked, weights_only=True
    predict(loaded, data) -> pl.DataFrame         timestamp, prob_sell, prob_hold, prob_buy, label
    evaluate_window(version_id, data, *, start=None) -> {"accuracy", "return_pct", "n", ...}
    start_training_job(cfg) -> job_id             background, in a subprocess
    get_training_run(run_id), list_training_runs()
    set_torch_threads(n=None)                     all cores but one (call once per process)
    FEATURE_NAMES, CLASS_NAMES

See docs/neural.md for the features, labels, split, models, files and strategy rule.
"""

from __future__ import annotations

from typing import Any

from engine.neural.config import CLASS_NAMES, TrainConfig, make_config
from engine.neural.features import FEATURE_NAMES

_LAZY = {
    "TrainResult": "engine.neural.pipeline",
    "LoadedModel": "engine.neural.pipeline",
    "train_model": "engine.neural.pipeline",
    "load_model": "engine.neural.pipeline",
    "load_model_file": "engine.neural.pipeline",
    "predict": "engine.neural.pipeline",
    "evaluate_window": "engine.neural.pipeline",
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
