"""A lab folder moved elsewhere still verifies and loads its registered models.

Model paths are stored relative to the data directory (``engine.paths.to_stored``): in
``model_versions.file_path``, in the version cards and in the training runs' results.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from engine import db
from engine.config import get_settings, reset_settings
from engine.neural import predict
from engine.neural.storage import version_dir
from engine.registry import get_version, load_version, train_version, verify_file
from engine.registry.tables import ModelVersion
from tests.neural.conftest import tiny


def _stored_path(version_id: str) -> str:
    with db.session_scope() as s:
        return s.get(ModelVersion, version_id).file_path


def test_a_moved_lab_still_verifies_and_loads_its_models(planted, isolated_lab, tmp_path,
                                                         monkeypatch):
    res = train_version(tiny(epochs=1), data=planted)
    name = Path(res.file_path).name
    assert _stored_path(res.version_id) == f"models/{name}"  # relative, forward slashes
    card = json.loads((version_dir() / f"{res.version_id}.neural.json").read_text())
    assert card["file_path"] == f"models/{name}"
    before = predict(load_version(res.version_id), planted)

    # move the lab: copy it elsewhere, delete the original, point the app at the copy
    db.dispose_all()
    moved = tmp_path / "elsewhere" / "lab"
    shutil.copytree(isolated_lab, moved)
    shutil.rmtree(isolated_lab)
    monkeypatch.setenv("STRATLAB_DATA_DIR", str(moved))
    reset_settings()
    db.dispose_all()

    assert get_settings().data_dir == moved
    assert verify_file(res.version_id) == moved / "models" / name
    assert get_version(res.version_id).file_path == str(moved / "models" / name)
    after = predict(load_version(res.version_id), planted)
    np.testing.assert_array_equal(after["prob_buy"].to_numpy(), before["prob_buy"].to_numpy())


def test_a_legacy_absolute_path_still_resolves(planted):
    res = train_version(tiny(epochs=1), data=planted)
    absolute = str(Path(res.file_path).resolve())
    with db.session_scope() as s:  # as a release before relative paths stored it
        row = s.get(ModelVersion, res.version_id)
        row.file_path = absolute
        s.add(row)
    assert verify_file(res.version_id) == Path(absolute)
    assert load_version(res.version_id).file_hash == res.file_hash
