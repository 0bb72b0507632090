"""Evolution page (AppTest through app.py): empty lab, create → evolve in the background →
population, history, Pareto, parameters and the inspector; promote; reset; controls.

AppTest does not tick ``run_every``, so the tests press the page's buttons (which queue the
real scheduler job), wait on the database for the run to finish, then ``.run()`` again.
"""

from __future__ import annotations

import time

from engine import evolution as ev
from tests.pages.conftest import assert_clean, open_page, table


def _wait_done(run_id: int, timeout: float = 120.0) -> ev.RunInfo:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        run = ev.get_run(run_id)
        if run.status not in ("created", "running", "stopping") and run.generations_done:
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} did not finish: {ev.get_run(run_id)}")


def _texts(at) -> str:
    parts = [str(getattr(e, "value", "")) for kind in ("markdown", "caption", "success",
                                                        "info", "warning", "subheader")
             for e in getattr(at, kind)]
    return "\n".join(parts)


def _picker(at, label: str):
    """The selectbox labelled ``label`` (the Run and Individual pickers have keys that
    change with what their labels show)."""
    found = [w for w in at.selectbox if w.label == label]
    assert found, f"no {label!r} selectbox; have {[w.label for w in at.selectbox]}"
    return found[0]


def _tiny_run(at, *, objective: str = "Single fitness") -> int:
    """Fill the new-run form with a tiny, fast, seeded run and press Create run."""
    at.multiselect(key="ev_symbols").set_value(["SYN-TREND"])
    at.number_input(key="ev_population").set_value(8)
    at.number_input(key="ev_generations").set_value(2)
    at.number_input(key="ev_elite").set_value(1)
    at.checkbox(key="ev_random_seed").uncheck()
    at.checkbox(key="ev_early_stop").uncheck()
    at.run()
    at.number_input(key="ev_seed").set_value(7)
    at.selectbox(key="ev_backend").set_value("inline")
    at.radio(key="ev_objective").set_value(objective)
    at.run()
    at.button(key="ev_create_btn").click().run()
    assert_clean(at)
    runs = ev.list_runs()
    assert runs, "no run was created"
    return runs[0].id


def test_renders_on_an_empty_lab(app):
    at = open_page(app, "evolution")
    assert_clean(at)
    assert [t.value for t in at.title] == ["Evolution"]
    assert any("No evolution runs yet" in i.value for i in at.info)
    # the form shows the seed's defaults (EvolutionConfig, environment variables)
    assert at.number_input(key="ev_population").value == 50
    assert at.number_input(key="ev_generations").value == 100
    assert at.number_input(key="ev_crossover").value == 0.8
    assert at.number_input(key="ev_mutation").value == 0.1
    assert at.number_input(key="ev_elite").value == 5
    assert at.slider(key="ev_holdout_pct").value == 30
    assert "sharpe_score" in at.selectbox(key="ev_fitness").options


def test_env_defaults_reach_the_form(app, monkeypatch):
    monkeypatch.setenv("POPULATION_SIZE", "24")
    monkeypatch.setenv("MUTATION_RATE", "0.2")
    at = open_page(app, "evolution")
    assert at.number_input(key="ev_population").value == 24
    assert at.number_input(key="ev_mutation").value == 0.2


def test_bad_settings_are_one_error_line(app):
    at = open_page(app, "evolution")
    at.multiselect(key="ev_symbols").set_value(["SYN-TREND"])
    at.number_input(key="ev_population").set_value(8)  # elite 5 of 8 is fine; 8 islands not
    at.number_input(key="ev_islands").set_value(4)
    at.run()
    at.button(key="ev_create_btn").click().run()
    assert not at.exception
    assert at.error and "population_size" in at.error[0].value
    assert "Traceback" not in at.error[0].value
    assert ev.list_runs() == []


def test_create_evolve_inspect_and_promote(app):
    at = open_page(app, "evolution")
    run_id = _tiny_run(at)
    assert any("created" in s.value for s in at.success)
    assert _picker(at, "Run").value == run_id
    assert ev.get_run(run_id).status == "created"

    at.number_input(key="ev_n").set_value(2).run()
    at.button(key="ev_evolve_btn").click().run()
    assert_clean(at)
    assert any("background" in s.value for s in at.success)
    run = _wait_done(run_id)
    assert run.status == "completed" and run.generations_done == 2
    at.run()
    assert_clean(at)

    # progress panel: generation counter and fitness
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Generation"] == "2 / 2"
    assert metrics["Best fitness"] == f"{run.best_fitness:,.2f}"
    assert at.progress and at.progress[0].value == 100
    # population table: 8 individuals, fitness and IS/OOS metrics, age, parents
    pop = table(at, "fitness")
    assert len(pop) == 8
    for col in ("uid", "IS return %", "IS Sharpe", "OOS return %", "OOS Sharpe", "age",
                "parents", "sma_short", "max_positions"):
        assert col in pop.columns, col
    assert list(pop["fitness"]) == sorted(pop["fitness"], reverse=True)
    # history table beside the chart: generations 0..2
    hist = table(at, "diversity")
    assert list(hist["generation"]) == [0, 1, 2]
    # inspector: the best individual by default, its verdict and both windows
    assert _picker(at, "Individual").value == run.best_uid
    body = _texts(at)
    assert f"Individual #{run.best_uid}" in body and "Verdict:" in body
    labels = [m.label for m in at.metric]
    for label in ("Deflated Sharpe", "Sharpe in-sample", "Sharpe out-of-sample",
                  "IS − OOS Sharpe gap"):
        assert label in labels
    metrics_tbl = table(at, "out-of-sample")
    assert {"sharpe", "total_return_pct"} <= set(metrics_tbl["metric"])
    assert table(at, "gene")["gene"].tolist()[0] == "rsi_period"

    # promote the inspected individual under a name (confirming when the run's PBO or SPA
    # p-value asks for it: tests/pages/test_research_panel.py)
    at.text_input(key="ev_promote_name").set_value("evo-page-test").run()
    if any(c.key == f"ev_promote_force_{run_id}" for c in at.checkbox):
        at.checkbox(key=f"ev_promote_force_{run_id}").check().run()
    at.button(key="ev_promote_btn").click().run()
    assert_clean(at)
    promoted = {p.name: p for p in ev.list_promoted()}
    assert "evo-page-test" in promoted
    assert promoted["evo-page-test"].source_uid == run.best_uid
    assert any("evo-page-test" in s.value and "--strategy" in s.value for s in at.success)
    # a duplicate name is an error line, not a traceback
    at.text_input(key="ev_promote_name").set_value("evo-page-test").run()
    at.button(key="ev_promote_btn").click().run()
    assert not at.exception and at.error

    # reset clears the population
    at.button(key="ev_reset_btn").click().run()
    assert not at.exception
    after = ev.get_run(run_id)
    assert after.generations_done == 0 and ev.population(run_id) == []
    assert any("No population yet" in c.value for c in at.caption)


def test_multi_objective_pareto_and_inspect_by_selectbox(app):
    at = open_page(app, "evolution")
    run_id = _tiny_run(at, objective="Multi-objective (NSGA-II)")
    at.button(key="ev_evolve_btn").click().run()
    run = _wait_done(run_id)
    assert run.config["objective"] == "multi"
    at.run()
    assert_clean(at)
    # the page draws each individual once (by uid: an unchanged clone keeps its parent's
    # uid and may sit in several slots); its front, counted here by hand: a point is on it
    # when no other point is at least as good on both axes and better on one
    x, y = run.config["objectives"][:2]
    once = {i.uid: i for i in ev.population(run_id)}
    pts = {uid: (float(i.objectives.get(x, i.in_sample.get(x))),
                 float(i.objectives.get(y, i.in_sample.get(y)))) for uid, i in once.items()}
    on_front = [u for u, a in pts.items()
                if not any(b[0] >= a[0] and b[1] >= a[1] and b != a for b in pts.values())]
    assert any(f"{len(on_front)} non-dominated of {len(once)} distinct individuals" in c.value
               for c in at.caption), [c.value for c in at.caption]
    other = next(i.uid for i in ev.population(run_id) if i.uid != run.best_uid)
    _picker(at, "Individual").set_value(other).run()
    assert_clean(at)
    assert f"Individual #{other}" in _texts(at)


def test_pause_resume_and_interrupted_run(app):
    at = open_page(app, "evolution")
    run_id = _tiny_run(at)
    # the buttons are the engine's answer (RunInfo.can_*): a created run can be paused (its
    # queued job then pauses before generation 0) and stopped, not resumed
    assert not at.button(key="ev_pause_btn").disabled
    assert not at.button(key="ev_stop_btn").disabled
    assert at.button(key="ev_resume_btn").disabled
    # an interrupted one offers Resume
    from engine.evolution import store

    store.set_request(run_id, None, allowed=("created",), status="interrupted")
    at.run()
    assert any("interrupted" in w.value for w in at.warning)
    assert not at.button(key="ev_resume_btn").disabled
    assert at.button(key="ev_pause_btn").disabled
    at.button(key="ev_resume_btn").click().run()
    assert_clean(at)
    run = _wait_done(run_id)
    assert run.status == "completed" and run.generations_done == 2
    at.run()
    assert at.button(key="ev_stop_btn").disabled  # completed
    assert not at.button(key="ev_evolve_btn").disabled


def test_labels_follow_new_generations(app):
    """Defect 6: after more generations the Run picker's label, the Generation slider and
    the Individual picker (its default and "best") show the new state, not the old."""
    at = open_page(app, "evolution")
    run_id = _tiny_run(at)
    ev.evolve(run_id, 1)
    at.run()
    assert_clean(at)
    assert any("1 of 2 generations" in o for o in _picker(at, "Run").options)
    assert [s.value for s in at.select_slider if s.label == "Generation"] == [1]
    ev.evolve(run_id, 3)  # the target grows to 4 (1 + 3)
    at.run()
    assert_clean(at)
    run = ev.get_run(run_id)
    assert run.generations_done == 4
    assert any("completed · 4 of 4 generations" in o for o in _picker(at, "Run").options)
    assert [s.value for s in at.select_slider if s.label == "Generation"] == [4]
    pick = _picker(at, "Individual")
    assert pick.value == run.best_uid
    assert any(o.endswith("· best") and o.startswith(f"#{run.best_uid} ") for o in pick.options)


def test_single_objective_pareto_front_is_on_the_axes_drawn(app):
    """Defect 13: on a single-objective run the front joins only points non-dominated on
    the two objectives drawn, and the caption says what it is."""
    at = open_page(app, "evolution")
    run_id = _tiny_run(at)
    ev.evolve(run_id)
    at.run()
    assert_clean(at)
    run = ev.get_run(run_id)
    x, y = run.config["objectives"][:2]
    chart = next(c for c in at.get("plotly_chart")
                 if "Pareto front:" in c.proto.spec)
    import json

    fig = json.loads(chart.proto.spec)
    front = next(t for t in fig["data"] if t.get("name") == "Pareto front")
    pts = list(zip(front["x"], front["y"], strict=True))
    # hand check: no front point is dominated by any drawn point
    others = [(t["x"][k], t["y"][k]) for t in fig["data"] if t.get("name") == "Dominated"
              for k in range(len(t["x"]))]
    for a in pts:
        for b in pts + others:
            assert not (b[0] >= a[0] and b[1] >= a[1] and (b[0] > a[0] or b[1] > a[1]))
    assert any(f"Front on the two axes drawn ({x} and {y}" in c.value for c in at.caption)
    assert any("Single-objective run" in c.value for c in at.caption)
    # optuna-dashboard-like trials: parallel coordinates, slice, contour, CSV
    keys = {c.key for c in at.get("plotly_chart")}
    assert {"ev_parcoords", "ev_slice", "ev_contour"} <= keys
    assert {"ev_population_csv", "ev_history_csv", "ev_trials_csv"} <= {
        b.key for b in at.get("download_button")}
