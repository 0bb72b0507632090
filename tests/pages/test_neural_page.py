"""Neural Models page: train a tiny model from the UI; live progress of a running run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from engine.db import session_scope
from engine.errors import StratLabError
from engine.market import list_datasets
from engine.neural import jobs
from engine.neural.tables import TrainingEpoch, TrainingRun
from engine.processes import current_owner

PAGE = Path(__file__).resolve().parents[2] / "app_pages" / "neural_models.py"
APP = Path(__file__).resolve().parents[2] / "app.py"


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


@pytest.fixture
def sync_jobs(monkeypatch):
    """Run the training job in this process, at once (AppTest does not tick run_every and
    the subprocess path has its own test in tests/neural/test_jobs.py)."""
    def run_now(run_id, *, sched=None):
        try:
            jobs.execute_run(run_id)
        except StratLabError:
            # a run's own failure (bad data, bad config) is recorded on the run row, as the
            # real job does; any other exception is a bug and fails the page loudly
            pass
        return jobs.job_id_for(run_id)

    monkeypatch.setattr(jobs, "schedule_run", run_now)


@pytest.fixture
def page():
    at = AppTest.from_file(str(PAGE), default_timeout=120)
    at.session_state["datasets"] = list_datasets()
    at.session_state["dataset"] = "SYN-TREND"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == ["Neural Models"]
    return at


def _small(at, model="lstm", epochs=2):
    at.selectbox(key="nn_model").set_value(model)
    at.selectbox(key="nn_size").set_value("Small (fast, for trying out)")
    at.number_input(key="nn_epochs").set_value(epochs)
    at.number_input(key="nn_seq").set_value(20)
    return at


def test_page_without_runs(page):
    assert any("No training runs yet" in c.value for c in page.caption)
    assert page.selectbox(key="nn_dataset").value == "SYN-TREND"


def test_dataset_follows_the_sidebar(page):
    # defect 11: every page follows the active dataset; a pick here stays until it changes
    page.selectbox(key="nn_dataset").set_value("SYN-RANGE").run()
    assert page.selectbox(key="nn_dataset").value == "SYN-RANGE"
    page.session_state["dataset"] = "SYN-VOLATILE"
    page.run()
    assert page.selectbox(key="nn_dataset").value == "SYN-VOLATILE"


@pytest.mark.parametrize("model", ["lstm", "transformer"])
def test_train_a_tiny_model_from_the_page(page, sync_jobs, model):
    at = _small(page, model)
    at.button(key="nn_train_btn").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert any("Training started" in s.value for s in at.success)
    run = jobs.list_training_runs()[0]
    assert run.status == "completed" and run.version_id
    cards = {m.label: m.value for m in at.metric}
    assert {"Test accuracy", "Logistic baseline", "Model return", "Baseline return",
            "Buy & hold", "Samples/s"} <= set(cards)
    assert any(k.startswith("Majority") for k in cards)
    assert cards["Test accuracy"].endswith("%")
    charts = at.get("plotly_chart")
    assert len(charts) >= 4  # history, confusion matrix, predictions, equity
    per_class = next(d.value for d in at.dataframe if "precision %" in d.value.columns)
    # percent like every accuracy on screen; an undefined precision is "—", never None
    assert "None" not in per_class.to_csv() and per_class.isna().sum().sum() == 0
    assert any(run.version_id in m.value and "cpu" in m.value for m in at.markdown)
    # the run picker's label says what the run's panel says
    picker = next(b for b in at.selectbox if b.label == "Training run")
    assert "completed" in picker.format_func(picker.value) and "queued" not in \
        picker.format_func(picker.value)


def test_a_failed_run_shows_its_error(page, sync_jobs, tmp_path):
    from engine.market import generate_synthetic, import_file

    path = tmp_path / "short.parquet"
    generate_synthetic(100, seed=3).write_parquet(path)
    import_file(path, symbol="SHORT")
    at = page
    at.session_state["datasets"] = list_datasets()
    at.run()
    at = _small(at)
    at.selectbox(key="nn_dataset").set_value("SHORT")
    at.button(key="nn_train_btn").click().run()
    assert not at.exception
    assert jobs.list_training_runs()[0].status == "failed"
    assert any("too few samples" in e.value for e in at.error)


def test_running_run_shows_live_progress_and_can_be_stopped(page):
    cfg = jobs.TrainConfig(symbol="SYN-TREND", model_type="lstm", epochs=10)
    run_id = jobs.create_training_run(cfg)
    with session_scope() as s:
        row = s.get(TrainingRun, run_id)
        row.status, row.pid, row.device = "running", os.getpid(), "cpu"
        row.proc_started = current_owner().started
        row.epochs_done, row.samples_per_second = 2, 1234.0
        s.add(row)
        for e in (1, 2):
            s.add(TrainingEpoch(run_id=run_id, epoch=e, train_loss=1.0 / e, val_loss=1.1 / e,
                                train_acc=0.4 * e, val_acc=0.35 * e, seconds=1.0,
                                samples_per_second=1234.0))
    at = page
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Training…" in m.value for m in at.markdown)
    bar = at.get("progress")[0]
    assert "epoch 2 / 10" in bar.proto.text and "1,234 samples/s" in bar.proto.text
    assert len(at.get("plotly_chart")) == 1  # the live loss/accuracy chart
    at.button(key="nn_stop_btn").click().run()
    assert jobs.get_training_run(run_id).requested_action == "stop"


def test_page_in_the_app_navigation():
    from ui.components import PAGES

    assert PAGES["neural"] == "app_pages/neural_models.py"
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    at.switch_page("app_pages/neural_models.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == ["Neural Models"]
