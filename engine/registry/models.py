"""Registered neural models: train-and-register, load by version id, evaluate on a window.

The neural package trains, saves and evaluates models but never imports the registry; this
module is the layer above it that ties a model file to its version (retrain → registry →
neural). Its functions are the seams the registry and auto-retrain tests replace
(:func:`train_version`, :func:`evaluate_version`, :func:`version_equity`), so every caller
goes through this module's attributes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from engine import maintenance  # noqa: F401  (its start-up hook cleans orphan files)
from engine.neural import jobs as training_jobs
from engine.neural import storage
from engine.neural.config import TrainConfig
from engine.neural.pipeline import (
    LoadedModel,
    TrainResult,
    check_trained,
    load_model_file,
    train_model,
)
from engine.neural.window import (
    DEFAULT_MIN_WINDOW_BARS,
    DEFAULT_WINDOW_DAYS,
    Window,
    evaluate_window,
    newest_window,
    training_config,
    window_equity,
)
from engine.registry.versions import (
    ModelVersionInfo,
    finite_number,
    get_version,
    register_version,
    verify_file,
)


def train_version(cfg: TrainConfig | Mapping[str, Any], *, on_epoch: Callable | None = None,
                  created_by: str = "user", parent_version: str | None = None,
                  relationship: str = "trained", register: bool = True,
                  data: Any = None) -> TrainResult:
    """Train ``cfg`` (``engine.neural.train_model``) and register the file as a version.

    With ``register=False`` the file is written but no version is created (``version_id``
    None). A registered version also gets its JSON card under ``VERSION_STORAGE_PATH``.
    """
    config = cfg if isinstance(cfg, TrainConfig) else TrainConfig(**dict(cfg))
    result = train_model(config, on_epoch=on_epoch, data=data, pending=register)
    if not register:
        return result
    model_path = Path(result.file_path)
    # a run that trained nothing registers nothing (train_model refuses it too)
    check_trained(result.epochs_run, result.best_epoch)
    info = register_version(**result.registration, created_by=created_by,
                            parent_version=parent_version, relationship=relationship)
    storage.clear_pending(model_path)
    result.version_id = info.version_id
    result.file_path = info.file_path
    result.file_hash, result.file_size = info.file_hash, info.file_size
    # the card carries no hash: the database's file_hash is the one record of it
    storage.write_version_card(info.version_id, {
        "version_id": info.version_id, "file_path": info.file_path,
        "file_size": info.file_size, "config": result.config,
        "performance_metrics": result.registration["performance_metrics"]})
    return result


training_jobs.set_trainer(train_version)  # background training runs register through here


def load_version(version_id: str) -> LoadedModel:
    """Load a registered version: :func:`verify_file` checks the file's SHA-256 first, then
    the bytes that are loaded are checked again against the same registered hash and read
    with ``torch.load(weights_only=True)``. A missing or changed file raises
    ``ModelIntegrityError`` (a ``StratLabError``) saying the hash does not match.

    The database's ``file_hash`` is the one hash record: a version card written by an older
    release may still carry a ``file_hash``, which is never consulted."""
    path = verify_file(version_id)
    expected = get_version(version_id).file_hash
    return load_model_file(path, expected_hash=expected, version_id=version_id)


def evaluate_version(version_id: str, data: Any, start: Any = None) -> dict[str, Any]:
    """The version's accuracy and strategy return on ``data``'s bars from ``start`` on
    (:func:`engine.neural.evaluate_window` of the verified, loaded version)."""
    return evaluate_window(load_version(version_id), data, start=start)


def version_equity(version_id: str, data: Any, start: Any) -> dict[str, list]:
    """The version's strategy equity on ``data``'s bars from ``start`` on."""
    return window_equity(load_version(version_id), data, start)


def window_evaluation(version_id: str, window: Window) -> dict[str, Any]:
    """The version on ``window``: ``accuracy``, ``return_pct``, ``n`` and the window's
    bounds (what a deployment snapshot holds and the monitor compares with)."""
    verify_file(version_id)
    ev = dict(evaluate_version(version_id, window.eval_data, window.start_time) or {})
    return {"accuracy": finite_number(ev.get("accuracy")),
            "return_pct": finite_number(ev.get("return_pct")),
            "n": ev.get("n"), **window.bounds()}


def version_config(info: ModelVersionInfo) -> dict[str, Any]:
    """The training configuration of a version (see :func:`engine.neural.training_config`)."""
    return training_config(info.version_id, info.metadata)


def window_snapshot(version_id: str, *, window_days: float = DEFAULT_WINDOW_DAYS,
                    min_bars: int = DEFAULT_MIN_WINDOW_BARS) -> dict[str, Any]:
    """The version evaluated on the newest ``window_days`` (>= ``min_bars`` bars) of its
    dataset."""
    info = get_version(version_id)
    window = newest_window(version_config(info), window_days=window_days, min_bars=min_bars)
    return window_evaluation(version_id, window)
