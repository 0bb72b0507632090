"""AppTest of the Model Registry and Auto-Retrain pages (run on their own, with engine.neural
replaced by fakes and the background scheduler kept out of the test process)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from engine import registry, retrain
from tests.registry.factories import FakeNeural, make_version

ROOT = Path(__file__).resolve().parents[2]


def page(name: str) -> AppTest:
    return AppTest.from_file(str(ROOT / "app_pages" / f"{name}.py"), default_timeout=60)


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def table(at: AppTest, column: str):
    for df in at.dataframe:
        if column in df.value.columns:
            return df.value
    raise AssertionError(f"no table with {column!r}")


@pytest.fixture
def fake(monkeypatch) -> FakeNeural:
    f = FakeNeural(monkeypatch)
    scheduled: list[tuple[str, str]] = []

    def schedule_retrain(version_id, trigger="manual", **_):
        scheduled.append((version_id, trigger))
        return retrain.enqueue(version_id, trigger)

    monkeypatch.setattr(retrain, "schedule_retrain", schedule_retrain)
    monkeypatch.setattr(retrain, "ensure_retrain_jobs", lambda sched=None: "retrain-monitor")
    monkeypatch.setattr(retrain, "monitor_job_info", lambda sched=None: None)
    f.scheduled = scheduled
    return f


# ------------------------------------------------------------------------ Model Registry

def test_registry_page_empty(fake):
    at = page("model_registry").run()
    assert_clean(at)
    assert [t.value for t in at.title] == ["Model Registry"]
    assert any("No model versions yet" in i.value for i in at.info)


def test_registry_page_lists_filters_deploys_rolls_back_and_archives(fake):
    a = make_version(accuracy=0.55, model_type="lstm", tags=["keep"])
    b = make_version(accuracy=0.70, model_type="transformer",
                     parent_version=a.version_id, relationship="retrained_from")
    at = page("model_registry").run()
    assert_clean(at)
    assert list(table(at, "version_id")["version_id"]) == [b.version_id, a.version_id]
    at.selectbox(key="mr_type").set_value("lstm").run()
    assert list(table(at, "version_id")["version_id"]) == [a.version_id]
    at.selectbox(key="mr_type").set_value("All").run()
    at.selectbox(key="mr_sort").set_value("Accuracy (high first)").run()
    assert list(table(at, "version_id")["version_id"]) == [b.version_id, a.version_id]

    at.selectbox(key="mr_version").set_value(a.version_id).run()
    at.selectbox(key="mr_env").set_value("paper").run()
    at.button(key="mr_deploy_btn").click().run()
    assert_clean(at)
    assert registry.current_deployment("paper").version_id == a.version_id
    at.selectbox(key="mr_version").set_value(b.version_id).run()
    at.button(key="mr_deploy_btn").click().run()
    assert registry.current_deployment("paper").version_id == b.version_id
    at.button(key="mr_rollback_paper").click().run()
    assert_clean(at)
    assert registry.current_deployment("paper").version_id == a.version_id
    assert any("Rolled back" in s.value for s in at.success)

    # edit tags and description
    at.selectbox(key="mr_version").set_value(b.version_id).run()
    at.text_input(key=f"mr_tags_{b.version_id}").set_value("best, new")
    at.text_area(key=f"mr_desc_{b.version_id}").set_value("the better one")
    at.button(key=f"FormSubmitter:mr_edit_{b.version_id}-Save tags and description").click()
    at.run()
    assert_clean(at)
    got = registry.get_version(b.version_id)
    assert got.tags == ["best", "new"] and got.description == "the better one"

    # archive: refused for the deployed one (st.error), done for the other
    at.selectbox(key="mr_version").set_value(a.version_id).run()
    at.button(key="mr_archive_btn").click().run()
    assert any("deployed to paper" in e.value for e in at.error)
    assert registry.get_version(a.version_id).status == "ACTIVE"
    at.selectbox(key="mr_version").set_value(b.version_id).run()
    at.button(key="mr_archive_btn").click().run()
    assert registry.get_version(b.version_id).status == "ARCHIVED"
    at.selectbox(key="mr_status").set_value("All").run()
    assert_clean(at)


def test_registry_page_compare_and_lineage(fake):
    a = make_version(performance_metrics={"accuracy": 0.5, "equity_curve": [1.0, 2.0, 3.0]},
                     config={"horizon": 5})
    b = make_version(performance_metrics={"accuracy": 0.6, "equity_curve": [1.0, 1.5, 1.0]},
                     config={"horizon": 10}, parent_version=a.version_id,
                     relationship="retrained_from")
    at = page("model_registry").run()
    at.multiselect(key="mr_cmp").set_value([a.version_id, b.version_id]).run()
    assert_clean(at)
    metrics = table(at, "Metric")
    # accuracy in percent, as on every page; the highest marked
    row = metrics[metrics["Metric"] == "accuracy %"].iloc[0]
    assert row[a.version_id] == 50.0 and row[b.version_id] == 60.0
    assert row["Highest"] == b.version_id
    diff = table(at, "Parameter")
    assert list(diff["Parameter"]) == ["horizon"]
    assert len(at.get("plotly_chart")) >= 2  # equity overlay + lineage
    at.selectbox(key="mr_lineage_of").set_value(b.version_id).run()
    edges = table(at, "Relationship")
    assert list(edges["Relationship"]) == ["retrained_from"]


def test_registry_page_compares_three_versions_and_exports_csv(fake):
    # MLflow-like: more than two versions side by side, downloadable as CSV
    vs = [make_version(accuracy=acc, config={"horizon": h})
          for acc, h in ((0.5, 5), (0.62, 10), (0.58, 10))]
    vids = [v.version_id for v in vs]
    at = page("model_registry").run()
    at.multiselect(key="mr_cmp").set_value(vids).run()
    assert_clean(at)
    metrics = table(at, "Metric")
    assert list(metrics.columns) == ["Metric", *vids, "Highest"]
    acc = metrics[metrics["Metric"] == "accuracy %"].iloc[0]
    assert [acc[v] for v in vids] == [50.0, 62.0, 58.0] and acc["Highest"] == vids[1]
    params = table(at, "Parameter")
    assert params[params["Parameter"] == "horizon"][vids].values.tolist() == [["5", "10", "10"]]
    button = at.get("download_button")
    assert len(button) == 1
    # the CSV the button serves is the engine's comparison_csv of the same versions
    csv = registry.comparison_csv(registry.compare_versions(vids))
    assert csv.splitlines()[0] == "kind,name," + ",".join(vids)
    assert "metric,accuracy,0.5,0.62,0.58" in csv.splitlines()


def test_registry_page_filters_by_parameters_and_metrics(fake):
    a = make_version(accuracy=0.50, config={"horizon": 5})
    b = make_version(accuracy=0.62, config={"horizon": 10})
    c = make_version(accuracy=0.58, config={"horizon": 10})
    at = page("model_registry").run()
    at.text_input(key="mr_filter").set_value("metrics.accuracy > 0.55 and params.horizon = 10")
    at.run()
    assert_clean(at)
    assert sorted(table(at, "version_id")["version_id"]) == sorted([b.version_id, c.version_id])
    assert any("2 of 3 versions" in cap.value for cap in at.caption)
    at.text_input(key="mr_filter").set_value("accuracy is high").run()
    assert any("cannot read the filter clause" in e.value for e in at.error)
    assert a.version_id in set(table(at, "version_id")["version_id"])  # unfiltered on error


def test_deployment_card_names_its_window_and_accuracy_in_percent(fake):
    # defect 14: the card did not say where its numbers come from; accuracy was a fraction
    v = make_version()
    fake.evals[v.version_id] = {"accuracy": 0.66, "return_pct": 3.5, "n": 95}
    dep = registry.deploy(v.version_id, "paper")
    snap = dep.performance_snapshot
    at = page("model_registry").run()
    assert_clean(at)
    card = next(c.value for c in at.caption if c.value.startswith("since "))
    assert "accuracy 66.0 % · return 3.50 % on the window " in card
    assert f"{snap['window_start'][:10]} → {snap['window_end'][:10]}" in card
    assert table(at, "version_id")["Accuracy %"].tolist() == [60.0]  # the factory's 0.6


def test_registry_page_shows_a_tampered_file_as_an_error(fake):
    v = make_version()
    with open(v.file_path, "ab") as fh:
        fh.write(b"evil")
    at = page("model_registry").run()
    assert_clean(at)
    at.button(key="mr_deploy_btn").click().run()
    assert not at.exception
    assert any("hash does not match" in e.value for e in at.error)
    at.button(key="mr_verify_btn").click().run()
    assert any("hash does not match" in e.value for e in at.error)
    assert registry.current_deployment("paper") is None


# --------------------------------------------------------------------------- Auto-Retrain

def test_auto_retrain_page_empty(fake):
    at = page("auto_retrain").run()
    assert_clean(at)
    assert [t.value for t in at.title] == ["Auto-Retrain"]
    assert any("No deployed models" in i.value for i in at.info)


def test_auto_retrain_page_policy_monitoring_retrain_and_history(fake):
    v = make_version()
    registry.deploy(v.version_id, "paper", snapshot={"accuracy": 0.80, "return_pct": 5.0})
    fake.evals[v.version_id] = {"accuracy": 0.75, "return_pct": 4.0, "n": 95}
    at = page("auto_retrain").run()
    assert_clean(at)
    status = table(at, "Accuracy now %")
    assert status["Accuracy now %"].item() == 75.0  # percent, as on every page
    assert status["Triggers"].item() == "accuracy"
    # Triggers is the third column: visible without scrolling sideways
    assert list(status.columns).index("Triggers") == 2

    # policy: save a new threshold, the trigger no longer fires after Check now
    # the threshold is typed in percentage points like every accuracy on screen: 10 = 0.1
    assert at.number_input(key="ar_p_accuracy_threshold").value == pytest.approx(5.0)
    at.number_input(key="ar_p_accuracy_threshold").set_value(10.0)
    at.button(key="FormSubmitter:ar_policy-Save policy").click().run()
    assert_clean(at)
    assert retrain.get_policy().accuracy_threshold == pytest.approx(0.1)
    at.button(key="ar_check_btn").click().run()
    assert table(at, "Accuracy now %")["Triggers"].item() == "—"
    # Check now says when it ran and what it found
    found = [i.value for i in at.info if i.value.startswith("Checked at ")]
    assert len(found) == 1 and found[0].endswith(": 1 deployed model; no trigger fired.")

    # Retrain now schedules the background job and shows it in the queue
    at.button(key="ar_retrain_btn").click().run()
    assert_clean(at)
    assert fake.scheduled == [(v.version_id, "manual")]
    assert list(table(at, "Queued")["Status"]) == ["queued"]
    # pressing it twice while queued is refused with a message; the queue keeps one entry
    at.button(key="ar_retrain_btn").click().run()
    assert not at.exception
    assert any(f"a retrain of model {v.model_name} is already queued" in e.value
               for e in at.error)
    assert list(table(at, "Queued")["Status"]) == ["queued"]
    # (the job itself runs on the scheduler; here it is run directly)
    fake.next_eval = {"accuracy": 0.9, "return_pct": 8.0}
    retrain.retrain_now(v.version_id)
    at.run()
    hist = table(at, "Decision")
    assert list(hist["Decision"]) == ["deployed"] and hist["New accuracy %"].item() == 90.0
    # Reset forgets the saved policy
    at.button(key="ar_reset_btn").click().run()
    assert retrain.get_policy().accuracy_threshold == pytest.approx(0.05)
    assert_clean(at)


def test_auto_retrain_page_survives_a_tampered_model_and_bad_settings(fake, monkeypatch):
    v = make_version()
    registry.deploy(v.version_id, "paper", snapshot={"accuracy": 0.8})
    with open(v.file_path, "ab") as fh:
        fh.write(b"evil")
    at = page("auto_retrain").run()
    assert not at.exception
    assert any("hash does not match" in e.value for e in at.error)
    monkeypatch.setenv("RETRAIN_THRESHOLD", "lots")
    at = page("auto_retrain").run()
    assert not at.exception
    assert any("RETRAIN_THRESHOLD" in e.value for e in at.error)


def test_auto_retrain_check_now_reports_and_the_schedule_reads_as_words(fake, monkeypatch):
    # defect 2: Check now said nothing; the job line showed APScheduler's interval[0:15:00]
    from datetime import datetime

    monkeypatch.setattr(retrain, "monitor_job_info", lambda sched=None: {
        "trigger": "interval[0:15:00]", "next_run_time": datetime(2026, 1, 2, 3, 4),
        "last_status": "success"})
    v = make_version()
    registry.deploy(v.version_id, "paper", snapshot={"accuracy": 0.80, "return_pct": 5.0})
    fake.evals[v.version_id] = {"accuracy": 0.70, "return_pct": 4.0, "n": 95}
    at = page("auto_retrain").run()
    assert_clean(at)
    captions = "\n".join(c.value for c in at.caption)
    assert "Background monitoring (every 15 minutes): next check 2026-01-02 03:04 UTC" in captions
    assert "interval[" not in captions
    assert not any(i.value.startswith("Checked at") for i in at.info)  # only when pressed
    at.button(key="ar_check_btn").click().run()
    found = [i.value for i in at.info if i.value.startswith("Checked at ")]
    assert found and found[0].endswith(
        f": 1 deployed model; triggers fired for paper · {v.version_id} (accuracy).")
