"""``python -m engine train``: the JSON contract, one-line errors."""

from __future__ import annotations

import json

import pytest

from engine.cli import main

SMALL = ["--epochs", "2", "--hidden", "8", "--layers", "1", "--seq-len", "15",
         "--d-model", "8", "--heads", "2", "--ff", "16", "--threads", "1"]


@pytest.mark.parametrize("model", ["lstm", "transformer"])
def test_train_json_contract(capsys, model):
    rc = main(["train", "--data", "SYN-TREND", "--model", model, *SMALL, "--json"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    doc = json.loads(out)
    assert {"version_id", "model_type", "device", "epochs_run", "seconds",
            "samples_per_second", "file_hash", "metrics", "backtest"} <= set(doc)
    assert doc["model_type"] == model and doc["device"] == "cpu" and doc["epochs_run"] == 2
    assert doc["version_id"] and len(doc["file_hash"]) == 64
    assert {"accuracy", "baseline_accuracy", "majority_accuracy", "per_class",
            "confusion_matrix", "val_loss", "test_loss"} <= set(doc["metrics"])
    from engine.backtest import METRIC_NAMES

    assert set(METRIC_NAMES) <= set(doc["backtest"])
    assert "predictions" not in doc  # --full adds them


def test_train_no_register_full(capsys):
    rc = main(["train", "--data", "SYN-RANGE", "--model", "lstm", *SMALL, "--no-register",
               "--horizon", "3", "--threshold", "0.02", "--json", "--full"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    doc = json.loads(out)
    assert doc["version_id"] is None and doc["config"]["horizon"] == 3
    assert len(doc["predictions"]["timestamp"]) == len(doc["equity"]["model"]) > 0


@pytest.mark.parametrize("argv, needle", [
    (["train", "--model", "lstm"], "--data"),
    (["train", "--data", "NOPE", "--model", "lstm", "--json"], "NOPE"),
    (["train", "--data", "SYN-TREND", "--model", "lstm", "--epochs", "0"], "epochs"),
    (["train", "--data", "SYN-TREND", "--model", "gru"], "invalid choice"),
])
def test_errors_are_one_line(capsys, argv, needle):
    try:
        rc = main(argv)
    except SystemExit as exc:  # argparse errors
        rc = exc.code
    _, err = capsys.readouterr()
    assert rc == 2
    assert needle in err and err.startswith("error:") and err.count("\n") == 1
