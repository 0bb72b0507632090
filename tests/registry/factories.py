"""Factories for registry and retrain tests: model files and versions without training."""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path
from typing import Any

from engine import registry
from engine.config import get_settings

_n = itertools.count()


def model_file(content: bytes | None = None) -> Path:
    """A fake model file under the isolated data directory."""
    folder = get_settings().data_dir / "models"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"fake-{next(_n)}.pt"
    path.write_bytes(content if content is not None else f"weights {path.name}".encode())
    return path


def make_version(*, accuracy: float | None = 0.6, return_pct: float = 5.0,
                 model_type: str = "lstm", symbol: str = "SYN-TREND",
                 config: dict[str, Any] | None = None, **kw: Any) -> registry.ModelVersionInfo:
    """Register a version of a fake file with a retrainable config."""
    cfg = {"symbol": symbol, "model_type": model_type, "horizon": 5, "threshold": 0.01,
           "epochs": 3, "sequence_length": 20, "start": None, "end": None}
    cfg.update(config or {})
    metrics = {"total_return_pct": return_pct, "sharpe": 1.0}
    if accuracy is not None:
        metrics["accuracy"] = accuracy
    kw.setdefault("model_name", f"{symbol}-{model_type}")
    kw.setdefault("performance_metrics", metrics)
    return registry.register_version(model_type=model_type, file_path=kw.pop("file_path", None)
                                     or model_file(), metadata={"config": cfg}, **kw)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class FakeNeural:
    """Stands in for ``engine.neural`` behind the registry's seams in
    :mod:`engine.registry.models` (``train_version``, ``evaluate_version``,
    ``version_equity``), which the registry's deployments and auto-retrain both call.

    ``evals[version_id]`` is what ``evaluate_window`` returns for that version (a version
    without one cannot be evaluated); a trained version gets ``next_eval``. ``gate`` (an
    Event) holds training until set; ``train_error`` makes training fail.
    ``load_version`` (what deploy calls to prove a version loads) verifies the file's hash
    and succeeds for fake files, except for the ids in ``unloadable``.
    """

    def __init__(self, monkeypatch) -> None:
        from engine.registry import models

        self.evals: dict[str, dict[str, Any]] = {}
        self.next_eval: dict[str, Any] = {"accuracy": 0.70, "return_pct": 6.0, "n": 90}
        self.train_calls: list[dict[str, Any]] = []
        self.eval_calls: list[tuple[str, Any, Any]] = []
        self.train_error: Exception | None = None
        self.gate = None
        self.started = None
        monkeypatch.setattr(models, "train_version", self.train)
        monkeypatch.setattr(models, "evaluate_version", self.evaluate)
        self.equity: dict[str, dict[str, list]] = {}
        monkeypatch.setattr(models, "version_equity", self.window_equity)
        self.unloadable: set[str] = set()
        self.load_calls: list[str] = []
        monkeypatch.setattr(models, "load_version", self.load)

    def load(self, version_id):
        from types import SimpleNamespace

        from engine.errors import ModelIntegrityError

        self.load_calls.append(version_id)
        path = registry.verify_file(version_id)
        if version_id in self.unloadable:
            raise ModelIntegrityError(f"model file {path} is not a valid weights file "
                                      "(UnpicklingError); retrain the model")
        return SimpleNamespace(version_id=version_id)

    def train(self, config, *, created_by="user", parent_version=None,
              relationship="trained", register=True, **_):
        from types import SimpleNamespace

        self.train_calls.append({"config": dict(config), "created_by": created_by,
                                 "parent_version": parent_version,
                                 "relationship": relationship})
        if self.started is not None:
            self.started.set()
        if self.gate is not None:
            assert self.gate.wait(20), "the test never released training"
        if self.train_error is not None:
            raise self.train_error
        info = make_version(config=config, symbol=config["symbol"],
                            model_type=config.get("model_type", "lstm"),
                            accuracy=self.next_eval.get("accuracy"),
                            parent_version=parent_version, relationship=relationship,
                            created_by=created_by)
        self.evals[info.version_id] = dict(self.next_eval)
        return SimpleNamespace(version_id=info.version_id,
                               metrics={"accuracy": self.next_eval.get("accuracy")})

    def evaluate(self, version_id, data, start=None):
        from engine.errors import StratLabError

        self.eval_calls.append((version_id, data, start))
        if version_id not in self.evals:
            raise StratLabError(f"no fake evaluation for {version_id}")
        return dict(self.evals[version_id])

    def window_equity(self, version_id, data, start):
        from engine.errors import StratLabError

        if version_id not in self.equity:
            raise StratLabError(f"no fake equity for {version_id}")
        return self.equity[version_id]
