"""CLI contract of ``models …`` and ``retrain …`` (in-process, on the isolated database)."""

from __future__ import annotations

import json

import pytest

from engine import registry
from engine.cli import main
from tests.registry.factories import make_version

SEED_FIELDS = {"version_id", "model_name", "model_type", "file_path", "metadata",
               "performance_metrics", "created_at", "created_by", "status", "parent_version",
               "tags", "description", "file_hash", "file_size"}


def run(capsys, *argv):
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv):
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def test_models_list_and_show_json(capsys):
    a = make_version(accuracy=0.5)
    b = make_version(parent_version=a.version_id, relationship="retrained_from")
    rows = run_json(capsys, "models", "list")
    assert [r["version_id"] for r in rows] == [b.version_id, a.version_id]
    for r in rows:
        assert {"version_id", "model_type", "status", "file_hash", "parent_version",
                "created_at"} <= set(r)
    assert rows[0]["parent_version"] == a.version_id and rows[1]["status"] == "ACTIVE"
    assert rows[1]["file_hash"] == a.file_hash
    assert [r["version_id"] for r in run_json(capsys, "models", "list", "--sort", "accuracy",
                                              "--asc")][0] == a.version_id
    shown = run_json(capsys, "models", "show", a.version_id)
    assert SEED_FIELDS <= set(shown)
    assert shown["file_path"] == a.file_path and shown["metadata"]["config"]["symbol"]
    code, out, err = run(capsys, "models", "list")
    assert code == 0 and a.version_id in out


def test_deploy_rollback_archive_lineage_compare(capsys):
    a, b = make_version(), make_version(parent_version=None)
    d = run_json(capsys, "models", "deploy", a.version_id, "--env", "paper")
    assert d["version_id"] == a.version_id and d["status"] == "active"
    run_json(capsys, "models", "deploy", b.version_id, "--env", "paper")
    back = run_json(capsys, "models", "rollback", "--env", "paper")
    assert back["version_id"] == a.version_id
    assert registry.current_deployment("paper").version_id == a.version_id
    deps = run_json(capsys, "models", "deployments", "--env", "paper")
    assert [x["status"] for x in deps] == ["active", "rolled_back", "superseded"]
    arch = run_json(capsys, "models", "archive", b.version_id)
    assert arch["status"] == "ARCHIVED"
    c = make_version(parent_version=a.version_id, relationship="retrained_from")
    g = run_json(capsys, "models", "lineage", c.version_id)
    assert g["edges"] == [{"source": a.version_id, "target": c.version_id,
                           "relationship": "retrained_from"}]
    cmp = run_json(capsys, "models", "compare", a.version_id, c.version_id)
    assert {r["metric"] for r in cmp["metrics"]} >= {"accuracy"}
    tagged = run_json(capsys, "models", "tag", c.version_id, "--tags", "x,y",
                      "--description", "hi")
    assert tagged["tags"] == ["x", "y"] and tagged["description"] == "hi"
    assert run_json(capsys, "models", "verify", c.version_id)["ok"] is True


def test_a_tampered_file_fails_deploy_with_a_hash_message(capsys):
    v = make_version()
    with open(v.file_path, "ab") as fh:
        fh.write(b"tamper")
    code, out, err = run(capsys, "models", "deploy", v.version_id, "--env", "production")
    assert code != 0 and out == ""
    assert err.startswith("error: ") and "hash does not match" in err
    assert len(err.strip().splitlines()) == 1
    code, _, err = run(capsys, "models", "verify", v.version_id)
    assert code != 0 and "hash does not match" in err
    assert registry.current_deployment("production") is None


@pytest.mark.parametrize("argv", [
    ("models", "show", "nope"),
    ("models", "rollback", "--env", "paper"),
    ("models", "deploy", "x", "--env", "staging"),
    ("retrain", "now", "nope"),
    ("retrain", "policy", "--set", "interval_hours=-1"),
])
def test_errors_are_one_line_exit_2(capsys, argv):
    code, out, err = run(capsys, *argv)
    assert code == 2 and err.startswith("error: ") and len(err.strip().splitlines()) == 1


def test_retrain_commands(capsys, fake):
    v = make_version()
    registry.deploy(v.version_id, "paper", snapshot={"accuracy": 0.8, "return_pct": 5.0})
    fake.evals[v.version_id] = {"accuracy": 0.7, "return_pct": 5.0}
    [st] = run_json(capsys, "retrain", "check")
    assert st["triggers"] == ["accuracy"] and st["version_id"] == v.version_id
    assert run_json(capsys, "retrain", "queue") == []
    fake.next_eval = {"accuracy": 0.75, "return_pct": 6.0}
    rec = run_json(capsys, "retrain", "now", v.version_id)
    assert rec["status"] == "deployed" and rec["new_version_id"]
    [h] = run_json(capsys, "retrain", "history")
    assert h["id"] == rec["id"] and h["trigger"] == "manual" and h["decision"] == "deployed"
    assert h["old_metrics"]["holdout"]["accuracy"] == 0.7
    fake.train_error = RuntimeError("boom")
    code, out, err = run(capsys, "retrain", "now", rec["new_version_id"], "--json")
    assert code == 1 and json.loads(out)["status"] == "failed" and "boom" in err
    pol = run_json(capsys, "retrain", "policy", "--set", "accuracy_threshold=0.1")
    assert pol["accuracy_threshold"] == 0.1
    assert run_json(capsys, "retrain", "policy", "--reset")["accuracy_threshold"] == 0.05
