"""Deploy loads the model first; the database hash is the one hash record (issue 9, item 13);
a run that trained nothing registers nothing (item 9's registry side)."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from engine import registry
from engine.db import session_scope
from engine.errors import ModelIntegrityError, StratLabError
from engine.registry import models
from engine.registry.tables import ModelDeployment, ModelVersion
from tests.registry.factories import make_version, model_file

# the real seams, captured before the autouse fixture replaces them with fakes
REAL = {name: getattr(models, name) for name in ("train_version", "load_version")}


def _tiny_cfg(**kw):
    from engine.neural import TrainConfig

    base = dict(symbol="PLANT", model_type="lstm", horizon=3, threshold=0.01, epochs=2,
                batch_size=64, sequence_length=15, learning_rate=0.005, patience=3,
                hidden_size=8, num_layers=1, dropout=0.0)
    return TrainConfig(**(base | kw))


@pytest.fixture
def real(monkeypatch):
    import torch

    torch.set_num_threads(1)
    for name, fn in REAL.items():
        monkeypatch.setattr(models, name, fn)


@pytest.fixture(scope="module")
def planted():
    from tests.neural.synthetic import planted_frame

    return planted_frame(700, seed=1)


def _active(env: str) -> list[str]:
    with session_scope() as s:
        return [r.version_id for r in s.exec(select(ModelDeployment).where(
            ModelDeployment.environment == env, ModelDeployment.status == "active")).all()]


def test_deploy_refuses_a_version_whose_file_hashes_right_but_does_not_load(real):
    # the registered hash is the hash of these very bytes, so verify_file passes; the
    # bytes are no weights file, so load_version fails — the old deploy activated it anyway
    bad = make_version(file_path=model_file(b"not a torch file at all"))
    registry.verify_file(bad.version_id)
    with pytest.raises(ModelIntegrityError,
                       match=rf"version {bad.version_id} cannot be loaded, so it is not "
                             r"deployed: .*not a valid weights file"):
        registry.deploy(bad.version_id, "paper")
    assert _active("paper") == []


def test_rollback_refuses_a_previous_version_that_no_longer_loads(fake):
    a, b = make_version(), make_version()
    registry.deploy(a.version_id, "paper")
    registry.deploy(b.version_id, "paper")
    fake.unloadable.add(a.version_id)
    with pytest.raises(ModelIntegrityError, match=f"version {a.version_id} cannot be loaded"):
        registry.rollback("paper")
    assert _active("paper") == [b.version_id]  # the current one stays


def test_deploy_loads_through_load_version(fake):
    v = make_version()
    registry.deploy(v.version_id, "production")
    assert fake.load_calls == [v.version_id]


@pytest.mark.slow
def test_the_database_hash_is_the_one_record_and_cards_carry_none(real, planted):
    res = registry.train_version(_tiny_cfg(), data=planted)
    from engine.neural.storage import version_dir

    card_path = version_dir() / f"{res.version_id}.neural.json"
    card = json.loads(card_path.read_text())
    assert "file_hash" not in card  # one hash record: model_versions.file_hash
    with session_scope() as s:
        assert s.get(ModelVersion, res.version_id).file_hash == res.file_hash

    # a card written by an older release whose hash disagrees with the database: the
    # database (which verify_file checks the file against) decides; the card is not read
    card["file_hash"] = "0" * 64
    card_path.write_text(json.dumps(card))
    loaded = registry.load_version(res.version_id)
    assert loaded.file_hash == res.file_hash
    dep = registry.deploy(res.version_id, "paper")
    assert dep.version_id == res.version_id and _active("paper") == [res.version_id]


@pytest.mark.slow
def test_a_run_that_trained_nothing_registers_nothing(real, planted, monkeypatch):
    from engine.neural import storage, training

    real_fit = training.fit

    def no_epochs(*args, **kwargs):  # what EPOCHS=-1 gave before epochs were validated
        res = real_fit(*args, **kwargs)
        res.epochs_run, res.best_epoch, res.history = 0, 0, []
        return res

    monkeypatch.setattr(training, "fit", no_epochs)
    with pytest.raises(StratLabError, match="training completed no epoch.*set epochs to 1"):
        registry.train_version(_tiny_cfg(), data=planted)
    assert registry.list_versions() == []
    assert not list(storage.model_dir().glob("*.pt"))  # and no file was written

    def never_finite(*args, **kwargs):  # every validation loss NaN: no best checkpoint
        res = real_fit(*args, **kwargs)
        res.best_epoch = 0
        return res

    monkeypatch.setattr(training, "fit", never_finite)
    with pytest.raises(StratLabError, match="validation loss was never a finite number"):
        registry.train_version(_tiny_cfg(), data=planted)
    assert registry.list_versions() == []
