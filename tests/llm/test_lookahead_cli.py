"""The look-ahead flags and keys on the command line, and the page builders' arithmetic."""

from __future__ import annotations

import json

import pytest

from engine.cli import main


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_analyze_blind_json(capsys):
    code, out, _ = run_cli(capsys, "analyze", "SYN-TREND", "--as-of", "2022-06-30",
                           "--provider", "offline", "--blind", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["blind"] is True
    assert doc["training_cutoff"] is None and doc["in_training_window"] is None  # offline
    assert "SYN-TREND" not in doc["prompt_context"] and "2022" not in doc["prompt_context"]
    assert "rebased" in doc["prompt_context"]
    # the decision's levels are on the real scale: the entry is the real as-of close
    assert doc["decision"]["entry_price"] == pytest.approx(doc["price"], rel=1e-4)


def test_replay_paired_json_keys(capsys):
    code, out, err = run_cli(capsys, "replay", "SYN-TREND", "--start", "2022-01-01",
                             "--end", "2022-06-30", "--every", "30", "--provider",
                             "offline", "--paired", "--json")
    assert code == 0 and "arms named+blind" in err and "warning:" not in err
    doc = json.loads(out)
    for k in ("replay_id", "arms", "blind", "warning", "by_arm", "training_window",
              "uncertainty", "paired", "control", "comparison"):
        assert k in doc
    assert doc["arms"] == ["named", "blind"] and doc["control"] is None  # offline: no arm
    assert doc["paired"]["pairs"] == doc["estimate"]["dates"] == len(doc["decisions"]) // 2
    for k in ("pairs", "agreement", "agreement_ci", "scored_pairs", "named_accuracy",
              "blind_accuracy", "accuracy_gap", "test"):
        assert k in doc["paired"]
    code, out, _ = run_cli(capsys, "accuracy", "--json")
    acc = json.loads(out)
    for k in ("training_window", "arms", "arms_by_window", "paired", "uncertainty"):
        assert k in acc
    assert acc["training_window"]["no_cutoff"]["decisions"] == len(doc["decisions"])
    assert {"accuracy_ci", "win_rate_ci"} <= set(acc["overall"])
    assert acc["paired"]["pairs"] == doc["paired"]["pairs"]


def test_no_blind_is_accepted_and_text_output_names_the_sides(capsys):
    code, out, _ = run_cli(capsys, "replay", "SYN-TREND", "--start", "2022-01-01",
                           "--end", "2022-03-31", "--every", "30", "--provider", "offline",
                           "--no-blind")
    assert code == 0 and "(offline, named)" in out
    assert "no training cutoff (offline analyst):" in out


def test_the_arms_chart_draws_wilson_intervals():
    from ui.llm_lookahead import arms_chart, arms_frame

    def arm(k, n):
        from engine.llm.uncertainty import wilson

        return {"decisions": n, "scored": n, "accuracy": k / n, "accuracy_ci": list(wilson(k, n)),
                "followed": 0, "win_rate": None, "pnl_usd": 0.0}

    comp = {"claude": arm(6, 10), "offline": arm(3, 10), "buy_and_hold": arm(5, 10)}
    fig = arms_chart(comp)
    bar = fig.data[0]
    from engine.llm.uncertainty import wilson

    lo, hi = wilson(6, 10)
    assert bar.y[0] == 0.6 and bar.error_y.array[0] == pytest.approx(hi - 0.6)
    assert bar.error_y.arrayminus[0] == pytest.approx(0.6 - lo)
    frame = arms_frame(comp)
    assert frame["Accuracy %"].to_list() == [60.0, 30.0, 50.0]
    assert frame[""].to_list() == ["Claude", "Offline analyst (control arm)", "Buy-and-hold"]
