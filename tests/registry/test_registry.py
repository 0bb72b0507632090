"""Model registry: round trip with hashes, tamper refusal, deploy/rollback, compare, lineage."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from engine import registry
from engine.db import session_scope
from engine.errors import ModelIntegrityError, ParameterError, StratLabError
from engine.registry.tables import ModelDeployment, ModelLineage, ModelVersion
from tests.registry.factories import make_version, model_file, sha256

SEED_FIELDS = {"version_id", "model_name", "model_type", "file_path", "metadata",
               "performance_metrics", "created_at", "created_by", "status", "parent_version",
               "tags", "description", "file_hash", "file_size"}


def _rows(model, **where):
    with session_scope() as s:
        q = select(model)
        for k, v in where.items():
            q = q.where(getattr(model, k) == v)
        return list(s.exec(q).all())


def _deps(env):
    rows = _rows(ModelDeployment, environment=env)
    return sorted(((r.version_id, r.status) for r in rows), key=lambda x: x)


def test_round_trip_records_hash_size_and_every_seed_field():
    path = model_file(b"\x00weights\x01" * 100)
    info = registry.register_version(
        model_name="SYN-TREND-lstm", model_type="lstm", file_path=path,
        metadata={"config": {"symbol": "SYN-TREND", "epochs": 3}},
        performance_metrics={"accuracy": 0.61}, tags=["b", "a", "a"], description="first")
    assert re.fullmatch(r"lstm-\d{8}-[0-9a-f]{6}", info.version_id)
    assert info.file_hash == sha256(path) and info.file_size == 900
    assert info.status == "ACTIVE" and info.created_by == "user" and info.parent_version is None
    assert info.tags == ["a", "b"]
    assert SEED_FIELDS <= set(info.to_dict())

    row = _rows(ModelVersion, version_id=info.version_id)[0]
    assert row.file_hash == sha256(path) and row.meta["config"]["epochs"] == 3
    assert row.performance_metrics == {"accuracy": 0.61}
    assert registry.get_version(info.version_id) == info
    assert registry.verify_file(info.version_id) == path.resolve()
    assert _rows(ModelLineage) == []  # no parent, no lineage row


def test_a_parent_adds_a_lineage_row_and_must_exist():
    a = make_version()
    b = make_version(parent_version=a.version_id, relationship="retrained_from")
    rows = _rows(ModelLineage)
    assert [(r.version_id, r.parent_version, r.relationship_type) for r in rows] == [
        (b.version_id, a.version_id, "retrained_from")]
    with pytest.raises(StratLabError, match="no model version"):
        make_version(parent_version="lstm-19990101-000000")
    with pytest.raises(ParameterError, match="relationship"):
        make_version(parent_version=a.version_id, relationship="cousin")
    with pytest.raises(StratLabError, match="does not exist"):
        registry.register_version(model_name="x", model_type="lstm",
                                  file_path=model_file().with_name("nope.pt"),
                                  metadata={}, performance_metrics={})


def test_a_tampered_file_is_refused_for_loading_and_deploying():
    v = make_version()
    registry.deploy(v.version_id, "paper")
    w = make_version()
    path = registry.get_version(w.version_id).file_path
    with open(path, "ab") as fh:
        fh.write(b"evil")
    with pytest.raises(ModelIntegrityError, match="hash does not match"):
        registry.verify_file(w.version_id)
    with pytest.raises(ModelIntegrityError, match="hash does not match"):
        registry.deploy(w.version_id, "paper")
    assert _deps("paper") == [(v.version_id, "active")]  # nothing changed

    missing = make_version()
    from pathlib import Path

    Path(missing.file_path).unlink()
    with pytest.raises(StratLabError, match="missing") as exc:
        registry.verify_file(missing.version_id)
    assert not isinstance(exc.value, ModelIntegrityError)


def test_list_filters_and_sorts():
    a = make_version(accuracy=0.55, model_type="lstm", tags=["keep"], description="alpha run")
    b = make_version(accuracy=0.70, model_type="transformer")
    c = make_version(accuracy=None, model_type="lstm")
    registry.archive(c.version_id)
    ids = lambda infos: [i.version_id for i in infos]  # noqa: E731
    assert ids(registry.list_versions()) == [c.version_id, b.version_id, a.version_id]
    assert ids(registry.list_versions(model_type="lstm")) == [c.version_id, a.version_id]
    assert ids(registry.list_versions(status="active")) == [b.version_id, a.version_id]
    assert ids(registry.list_versions(status="ARCHIVED")) == [c.version_id]
    assert ids(registry.list_versions(tag="keep")) == [a.version_id]
    assert ids(registry.list_versions(search="ALPHA")) == [a.version_id]
    assert ids(registry.list_versions(sort="accuracy")) == [b.version_id, a.version_id,
                                                            c.version_id]
    assert ids(registry.list_versions(sort="accuracy", descending=False))[:2] == [
        a.version_id, b.version_id]
    assert ids(registry.list_versions(sort="created_at", descending=False)) == [
        a.version_id, b.version_id, c.version_id]


def test_update_tags_and_description_persist():
    v = make_version()
    registry.update_version(v.version_id, tags=[" best ", "paper", ""], description="note")
    row = _rows(ModelVersion, version_id=v.version_id)[0]
    assert row.tags == ["best", "paper"] and row.description == "note"
    registry.update_version(v.version_id, description="again")
    assert registry.get_version(v.version_id).tags == ["best", "paper"]


def test_deploy_supersedes_and_rollback_goes_back_through_history():
    z, a, b = make_version(), make_version(accuracy=0.8), make_version()
    registry.deploy(z.version_id, "paper")
    registry.deploy(a.version_id, "paper")
    registry.deploy(b.version_id, "production")
    assert _deps("paper") == sorted([(z.version_id, "superseded"), (a.version_id, "active")])
    cur = registry.current_deployment("paper")
    assert cur.version_id == a.version_id
    # no evaluation possible for a fake file: the snapshot falls back to training metrics
    assert cur.performance_snapshot["accuracy"] == 0.8
    assert cur.performance_snapshot["source"] == "training"
    assert registry.get_version(a.version_id).deployed_to == ["paper"]

    registry.deploy(b.version_id, "paper")
    back = registry.rollback("paper")
    assert back.version_id == a.version_id and back.status == "active"
    assert back.performance_snapshot["accuracy"] == 0.8  # the earlier snapshot is reused
    statuses = [(d.version_id, d.status) for d in registry.deployments("paper")]
    assert statuses == [(a.version_id, "active"), (b.version_id, "rolled_back"),
                        (a.version_id, "superseded"), (z.version_id, "superseded")]
    assert registry.rollback("paper").version_id == z.version_id
    with pytest.raises(StratLabError, match="no earlier deployment"):
        registry.rollback("paper")
    # production untouched throughout
    assert registry.current_deployment("production").version_id == b.version_id
    assert len([d for d in registry.deployments() if d.status == "active"]) == 2


def test_deploy_uses_the_window_evaluation_as_snapshot_when_possible(fake):
    v = make_version(accuracy=0.5)
    fake.evals[v.version_id] = {"accuracy": 0.66, "return_pct": 3.5, "n": 95}
    snap = registry.deploy(v.version_id, "paper").performance_snapshot
    assert snap["source"] == "window" and snap["accuracy"] == 0.66
    assert snap["return_pct"] == 3.5 and snap["window_bars"] >= 100
    explicit = registry.deploy(v.version_id, "production", snapshot={"accuracy": 0.1})
    assert explicit.performance_snapshot == {"accuracy": 0.1}


def test_rollback_refuses_a_tampered_previous_file_and_keeps_the_current():
    a, b = make_version(), make_version()
    registry.deploy(a.version_id, "paper")
    registry.deploy(b.version_id, "paper")
    with open(a.file_path, "ab") as fh:
        fh.write(b"x")
    with pytest.raises(ModelIntegrityError, match="hash does not match"):
        registry.rollback("paper")
    assert registry.current_deployment("paper").version_id == b.version_id
    with pytest.raises(StratLabError, match="nothing is deployed"):
        registry.rollback("production")
    with pytest.raises(ParameterError, match="unknown environment"):
        registry.deploy(a.version_id, "staging")


def test_archive_marks_the_row_and_protects_deployed_versions():
    a, b = make_version(), make_version()
    registry.deploy(a.version_id, "paper")
    with pytest.raises(StratLabError, match="deployed to paper"):
        registry.archive(a.version_id)
    registry.archive(b.version_id)
    assert _rows(ModelVersion, version_id=b.version_id)[0].status == "ARCHIVED"
    with pytest.raises(StratLabError, match="archived"):
        registry.deploy(b.version_id, "paper")


def test_compare_metrics_config_diff_and_equity_curves(fake):
    a = make_version(performance_metrics={"accuracy": 0.5, "backtest": {
        "total_return_pct": 4.0, "equity_curve": [100.0, 101.0, 103.0]}},
        config={"horizon": 5})
    b = make_version(performance_metrics={"accuracy": 0.6, "total_return_pct": 7.0,
                                          "equity": {"timestamp": ["t1", "t2"],
                                                     "equity": [100.0, 99.0]}},
                     config={"horizon": 10, "epochs": 3})
    c = registry.compare(a.version_id, b.version_id)
    rows = {r["metric"]: r for r in c["metrics"]}
    assert rows["accuracy"]["a"] == 0.5 and rows["accuracy"]["b"] == 0.6
    assert rows["accuracy"]["diff"] == pytest.approx(0.1)
    assert rows["backtest.total_return_pct"]["b"] is None
    assert c["config_diff"] == [{"key": "horizon", "a": 5, "b": 10}]
    assert c["equity"]["a"] == {"x": [0, 1, 2], "y": [100.0, 101.0, 103.0]}
    assert c["equity"]["b"] == {"x": ["t1", "t2"], "y": [100.0, 99.0]}
    assert c["a"]["version_id"] == a.version_id
    # a version without a stored curve: recomputing fails cleanly for a fake file
    d = make_version()
    c2 = registry.compare(a.version_id, d.version_id, recompute_equity=True)
    assert c2["equity"]["b"] is None and c2["equity_errors"]["b"]
    assert c2["equity_source"] == {"a": "stored"}
    fake.equity[d.version_id] = {"x": ["t"], "y": [1.0]}
    c3 = registry.compare(a.version_id, d.version_id, recompute_equity=True)
    assert c3["equity"]["b"] == {"x": ["t"], "y": [1.0]} and not c3["equity_errors"]
    assert c3["equity_source"]["b"].startswith("recomputed")


def test_lineage_graph_has_ancestors_and_descendants():
    root = make_version()
    child = make_version(parent_version=root.version_id, relationship="retrained_from")
    grand = make_version(parent_version=child.version_id, relationship="retrained_from")
    promo = make_version()
    registry.add_lineage(promo.version_id, child.version_id, "promoted_from")
    unrelated = make_version()
    g = registry.lineage(child.version_id)
    depth = {n["version_id"]: n["depth"] for n in g["nodes"]}
    assert depth == {root.version_id: -1, child.version_id: 0, grand.version_id: 1,
                     promo.version_id: 1}
    assert unrelated.version_id not in depth
    edges = {(e["source"], e["target"], e["relationship"]) for e in g["edges"]}
    assert edges == {(root.version_id, child.version_id, "retrained_from"),
                     (child.version_id, grand.version_id, "retrained_from"),
                     (child.version_id, promo.version_id, "promoted_from")}
    assert {n["version_id"] for n in registry.lineage(grand.version_id)["nodes"]} == {
        root.version_id, child.version_id, grand.version_id}
    with pytest.raises(StratLabError, match="no model version"):
        registry.lineage("nope")


def test_deploy_snapshot_window_follows_the_retrain_policy_or_an_explicit_window(fake):
    from engine import retrain

    v = make_version(accuracy=0.5)
    fake.evals[v.version_id] = {"accuracy": 0.66, "return_pct": 3.5, "n": 95}
    # SYN-TREND has daily bars, so 7 days hold fewer than these floors: the floor decides
    retrain.save_policy({"min_window_bars": 250})  # as saved on the Auto-Retrain page
    assert registry.deploy(v.version_id, "paper").performance_snapshot["window_bars"] == 250
    explicit = registry.deploy(v.version_id, "production", window=(7.0, 321))
    assert explicit.performance_snapshot["window_bars"] == 321
    # the window the monitor then watches is the policy's too
    [status] = [s for s in retrain.check() if s.environment == "paper"]
    assert status.window["window_bars"] == 250
