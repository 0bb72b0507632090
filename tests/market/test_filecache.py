"""engine.market.filecache: a data file is validated once while its bytes stay the same."""

from __future__ import annotations

import pytest

from engine.market import filecache as fc
from engine.market import load_dataset


@pytest.fixture(autouse=True)
def _empty_cache():
    fc.clear()
    yield
    fc.clear()


def _csv(path, closes):
    rows = ["timestamp,open,high,low,close,volume"]
    for i, c in enumerate(closes):
        rows.append(f"2024-01-{i + 1:02d},{c},{c + 1},{c - 1},{c},1000")
    path.write_text("\n".join(rows) + "\n")
    return path


def test_an_unchanged_file_is_validated_once(tmp_path, monkeypatch):
    calls = []
    real = fc.validate_frame
    monkeypatch.setattr(fc, "validate_frame", lambda df, **k: calls.append(1) or real(df, **k))
    path = _csv(tmp_path / "x.csv", [10.0, 11.0, 12.0])
    first, second = load_dataset(path), load_dataset(str(path))
    assert len(calls) == 1
    assert first.equals(second) and first.get_column("close").to_list() == [10.0, 11.0, 12.0]


def test_a_rewrite_of_the_same_size_is_read_again(tmp_path):
    # same length, same second: only the bytes tell the two versions apart
    path = _csv(tmp_path / "x.csv", [10.0, 11.0, 12.0])
    assert load_dataset(path).get_column("close").to_list() == [10.0, 11.0, 12.0]
    _csv(path, [20.0, 21.0, 22.0])
    assert load_dataset(path).get_column("close").to_list() == [20.0, 21.0, 22.0]


def test_only_the_newest_files_are_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(fc, "MAX_FILES", 2)
    paths = [_csv(tmp_path / f"f{i}.csv", [10.0 + i, 11.0, 12.0]) for i in range(3)]
    for p in paths:
        load_dataset(p)
    assert fc.kept() == [str(p.resolve()) for p in paths[1:]]
