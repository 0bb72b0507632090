"""Orphan files after kills are cleaned at start-up, never a concurrent writer's
(issue 9, item 12; ``engine.maintenance.clean_orphans``)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine import scheduler
from engine.config import PROJECT_ROOT, get_settings
from engine.maintenance import ORPHAN_GRACE_SECONDS, clean_orphans
from engine.neural import storage
from tests.registry.factories import make_version


def later() -> float:
    """'now' once the grace period has passed for a file written a moment ago (computed at
    call time: a module constant goes stale when the test runs minutes after collection)."""
    return time.time() + ORPHAN_GRACE_SECONDS + 60

HEX = "0123456789abcdef" * 2

# trains a tiny model in a process that is killed (-9) the moment it would register it:
# the model file and its scaler copy are written, no version exists
KILLED_TRAINER = """
import os, signal, sys
import torch
torch.set_num_threads(1)
from engine.db import init_db
init_db()
from engine import registry
from engine.registry import models
from engine.neural import TrainConfig
from tests.neural.synthetic import planted_frame
models.register_version = lambda **kw: os.kill(os.getpid(), signal.SIGKILL)
cfg = TrainConfig(symbol="PLANT", model_type="lstm", horizon=3, epochs=1, batch_size=64,
                  sequence_length=15, hidden_size=8, num_layers=1)
models.train_version(cfg, data=planted_frame(500, seed=2))
"""


def _names(folder) -> set[str]:
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


@pytest.mark.slow
def test_a_model_file_whose_registration_was_killed_is_cleaned_after_the_grace_period():
    proc = subprocess.run([sys.executable, "-c", KILLED_TRAINER], cwd=str(PROJECT_ROOT),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == -9, proc.stderr[-2000:]
    [model] = [n for n in _names(storage.model_dir()) if n.endswith(".pt")]
    assert model + storage.PENDING_SUFFIX in _names(storage.model_dir())
    assert _names(storage.scaler_dir()) == {model.removesuffix(".pt") + ".json"}

    young = clean_orphans()  # within the grace period: a writer may still be at work
    assert young.removed == [] and young.kept_young >= 1
    assert model in _names(storage.model_dir())

    rep = clean_orphans(now=later())
    assert sorted(rep.removed) == sorted([
        f"models/{model}", f"scalers/{model.removesuffix('.pt')}.json",
        f"models/{model}{storage.PENDING_SUFFIX}"])
    assert _names(storage.model_dir()) == set() and _names(storage.scaler_dir()) == set()


def test_registered_and_deliberately_unregistered_files_are_kept():
    v = make_version()  # a registered file (no marker)
    keep = storage.model_file_path("no-register-run")  # `train --no-register`: no marker
    keep.write_bytes(b"weights")
    registered_pending = storage.model_file_path("registered")
    storage.mark_pending(registered_pending)  # registered, but killed before the marker went
    registered_pending.write_bytes(b"weights 2")
    w = make_version(file_path=registered_pending)
    (storage.model_dir() / (registered_pending.name + storage.PENDING_SUFFIX)).write_text("")

    rep = clean_orphans(now=later())
    assert rep.removed == [f"models/{registered_pending.name}{storage.PENDING_SUFFIX}"]
    for path in (v.file_path, w.file_path, keep):
        assert os.path.exists(path)


def test_a_pending_file_of_a_live_writer_is_kept():
    path = storage.model_file_path("in-flight")
    storage.mark_pending(path)  # the marker holds this (live) process's pid
    path.write_bytes(b"weights")
    assert clean_orphans(now=later()).removed == []
    assert path.exists()


def test_dataset_and_atomic_write_leftovers():
    ddir = get_settings().datasets_dir
    ddir.mkdir(parents=True)
    (ddir / f".GOOG.{HEX}.tmp").write_bytes(b"half a parquet file")
    (ddir / "GOOG.parquet").write_bytes(b"current")
    (ddir / f".GOOG.{HEX}.bak").write_bytes(b"previous")  # import finished: drop it
    (ddir / f".AAPL.{HEX}.bak").write_bytes(b"moved aside")  # killed before the new one
    (ddir / "MSFT.parquet").write_bytes(b"a dataset")
    storage.model_dir().mkdir(parents=True, exist_ok=True)
    (storage.model_dir() / ".lstm-x.pt.4242.tmp").write_bytes(b"partial")

    rep = clean_orphans(now=later())
    assert sorted(rep.removed) == [f"datasets/.GOOG.{HEX}.bak", f"datasets/.GOOG.{HEX}.tmp",
                                   "models/.lstm-x.pt.4242.tmp"]
    assert rep.restored == ["datasets/AAPL.parquet"]
    assert (ddir / "AAPL.parquet").read_bytes() == b"moved aside"
    assert _names(ddir) == {"GOOG.parquet", "AAPL.parquet", "MSFT.parquet"}


def test_young_leftovers_are_left_to_their_writer():
    ddir = get_settings().datasets_dir
    ddir.mkdir(parents=True)
    tmp = ddir / f".GOOG.{HEX}.tmp"
    tmp.write_bytes(b"being written right now")
    assert clean_orphans().kept_young == 1 and tmp.exists()
    old = time.time() - ORPHAN_GRACE_SECONDS - 5
    os.utime(tmp, (old, old))
    assert clean_orphans().removed == [f"datasets/.GOOG.{HEX}.tmp"]


def _old_orphan() -> Path:
    ddir = get_settings().datasets_dir
    ddir.mkdir(parents=True, exist_ok=True)
    tmp = ddir / f".GOOG.{HEX}.tmp"
    tmp.write_bytes(b"left by a killed import")
    old = time.time() - ORPHAN_GRACE_SECONDS - 5
    os.utime(tmp, (old, old))
    return tmp


def test_it_runs_at_the_scheduler_start():
    tmp = _old_orphan()
    scheduler.run_startup_hooks()  # what the app's start runs
    assert not tmp.exists()


def test_it_runs_before_retrain_now_on_the_command_line(fake, capsys):
    from engine.cli import main

    v = make_version()
    fake.evals[v.version_id] = {"accuracy": 0.6, "return_pct": 5.0, "n": 90}
    tmp = _old_orphan()
    assert main(["retrain", "now", v.version_id, "--json"]) == 0, capsys.readouterr().err
    assert not tmp.exists()
