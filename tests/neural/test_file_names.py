"""Model and scaler files always land in their storage folders (issue 9, item 8).

``train --data`` accepts a CSV path; its raw text used to become the file name, so
``../../x.csv`` wrote outside the data directory and an absolute path put the files beside
the CSV.
"""

from __future__ import annotations

import json

import pytest

from engine.cli import main
from engine.neural import storage

SMALL = ["--model", "lstm", "--epochs", "1", "--hidden", "8", "--layers", "1", "--seq-len",
         "15", "--threads", "1", "--horizon", "3", "--json"]


@pytest.fixture
def csv_file(tmp_path, planted):
    folder = tmp_path / "elsewhere" / "deep"
    folder.mkdir(parents=True)
    path = folder / "x.csv"
    planted.head(500).write_csv(path)
    return path


def _files(folder):
    return sorted(p.name for p in folder.rglob("*") if p.is_file())


def _train(capsys, data: str) -> dict:
    rc = main(["train", "--data", data, *SMALL])
    out, err = capsys.readouterr()
    assert rc == 0, err
    return json.loads(out)


@pytest.mark.parametrize("how", ["absolute", "dotdot"])
def test_a_data_path_never_steers_where_files_go(capsys, monkeypatch, tmp_path, csv_file,
                                                 how):
    beside = set(_files(tmp_path / "elsewhere"))
    if how == "absolute":
        data = str(csv_file)
    else:  # ../../x.csv from two folders below the CSV's: the old name escaped two levels
        cwd = csv_file.parent / "a" / "b"
        cwd.mkdir(parents=True)
        monkeypatch.chdir(cwd)
        data = "../../x.csv"
    doc = _train(capsys, data)

    model = storage.model_dir().resolve()
    assert doc["version_id"]
    path = (model / doc["file_path"]).resolve() if not doc["file_path"].startswith("/") \
        else type(model)(doc["file_path"]).resolve()
    assert path.parent == model and path.name.startswith("x-lstm-") and path.suffix == ".pt"
    scalers = list(storage.scaler_dir().glob("*.json"))
    assert [p.name for p in scalers] == [path.stem + ".json"]
    # nothing new beside the CSV, nor anywhere outside the data directory's folders
    assert set(_files(tmp_path / "elsewhere")) == beside
    assert not list(tmp_path.glob("*.pt")) and not list(tmp_path.glob("*lstm*"))


@pytest.mark.parametrize("text, stem", [
    ("../../x.csv", "x"),
    ("/abs/dir/GOOG.parquet", "GOOG"),
    ("C:\\data\\prices.CSV", "prices"),
    ("..", "model"),
    ("SYN-TREND", "SYN-TREND"),
    ("my data?*.csv", "my_data"),
])
def test_safe_stem(text, stem):
    assert storage.safe_stem(text) == stem


def test_file_paths_stay_in_their_folders():
    assert storage.model_file_path("../../evil").parent == storage.model_dir()
    assert storage.scaler_file_path("/etc/passwd").parent == storage.scaler_dir()
    assert storage.model_file_path("../../evil").name == "evil.pt"
