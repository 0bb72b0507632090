"""``python -m engine walkforward``: the JSON document and one-line errors."""

from __future__ import annotations

import json
import re

import pytest

from engine.cli import main


def run(capsys, *argv):
    capsys.readouterr()
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


SMALL = ("--windows", "2", "--is-bars", "300", "--oos-bars", "100", "--population", "8",
         "--generations", "1", "--seed", "5", "--backend", "inline")


def test_json_document(capsys, goog_path):
    code, out, err = run(capsys, "walkforward", "--data", goog_path, *SMALL, "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["status"] == "completed" and doc["anchored"] is False
    assert [w["window"] for w in doc["windows"]] == [0, 1]
    w = doc["windows"][0]
    assert set(w["genes"]) >= {"rsi_period", "sma_short", "position_size"}
    assert w["seed"] == 5 and doc["windows"][1]["seed"] == 6
    assert {"cagr_pct", "sharpe", "total_return_pct"} <= set(w["in_sample"])
    assert {"cagr_pct", "sharpe", "total_return_pct"} <= set(w["out_of_sample"])
    assert w["is_bars"] == 300 and w["oos_bars"] == 100
    assert doc["stitched"]["bars"] == 200
    assert "final_equity" in doc["stitched"]["metrics"]
    assert "efficiency" in doc and set(doc["gene_stability"]) == {"genes", "mean_dispersion"}
    # stored: --show prints the same document, --list lists it
    code, shown, _ = run(capsys, "walkforward", "--show", str(doc["analysis_id"]), "--json")
    assert code == 0 and json.loads(shown)["stitched"] == doc["stitched"]
    code, listed, _ = run(capsys, "walkforward", "--list", "--json")
    assert [r["analysis_id"] for r in json.loads(listed)] == [doc["analysis_id"]]
    # resuming a completed analysis re-stitches it and changes nothing
    code, again, _ = run(capsys, "walkforward", "--resume", str(doc["analysis_id"]), "--json")
    assert code == 0 and json.loads(again)["windows"] == doc["windows"]


@pytest.mark.parametrize(("argv", "message"), [
    (("--windows", "30", "--is-bars", "1000", "--oos-bars", "500"),
     r"error: not enough bars for 30 windows: --is-bars 1,000 \+ --windows 30 × --oos-bars "
     r"500 = 16,000 bars, but .* has 2,148; lower --windows, --is-bars or --oos-bars \(at "
     r"most --windows 2 fit with these lengths\), or widen --start/--end"),
    (("--windows", "3"), r"error: walkforward needs --is-bars, --oos-bars: e.g."),
    (("--windows", "2", "--is-bars", "100", "--oos-bars", "50", "--start", "2030-01-01"),
     r"error: no bars in .* between 2030-01-01 and the end"),
])
def test_bad_settings_print_one_line_with_the_fix(capsys, goog_path, argv, message):
    code, _, err = run(capsys, "walkforward", "--data", goog_path, *argv)
    assert code == 2 and err.count("\n") == 1
    assert re.search(message, err), err


@pytest.mark.parametrize(("argv", "message"), [
    (("--windows", "3", "--is-bars", "20", "--oos-bars", "50"),
     r"error: argument --is-bars: 20 is not valid: must be a whole number from 30 to"),
    (("--windows", "0", "--is-bars", "100", "--oos-bars", "50"),
     r"error: argument --windows: 0 is not valid: must be a whole number from 1 to 200"),
    (("--windows", "2", "--is-bars", "100", "--oos-bars", "5"),
     r"error: argument --oos-bars: 5 is not valid: must be a whole number from 10 to"),
    (("--windows", "2", "--is-bars", "100", "--oos-bars", "50", "--backend", "gpu"),
     r"error: argument --backend: invalid choice: 'gpu'"),
])
def test_bad_flags_are_refused_by_the_parser(capsys, goog_path, argv, message):
    with pytest.raises(SystemExit) as exc:
        main(["walkforward", "--data", goog_path, *argv])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.count("\n") == 1
    assert re.search(message, err), err


def test_resume_refuses_new_settings_and_unknown_ids(capsys, goog_path):
    code, _, err = run(capsys, "walkforward", "--resume", "7", "--windows", "3")
    assert code == 2 and "--resume continues analysis 7 with its stored settings; drop " \
                          "--windows" in err
    code, _, err = run(capsys, "walkforward", "--resume", "7")
    assert code == 2 and "no walk-forward analysis 7; see `python -m engine walkforward " \
                         "--list`" in err


def test_cli_bounds_match_the_engine():
    from engine.cli import walkforward as cli
    from engine.walkforward import config

    assert (cli.MAX_WINDOWS, cli.MIN_IS_BARS, cli.MIN_OOS_BARS) == (
        config.MAX_WINDOWS, config.MIN_IS_BARS, config.MIN_OOS_BARS)
