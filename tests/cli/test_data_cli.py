"""``python -m engine data …`` through ``engine.cli.main``: exit codes, JSON, one-line errors."""

from __future__ import annotations

import json

import pytest

import engine.cli as cli
import engine.market as market
from engine.market.download import download as real_download
from tests.market._fake_yahoo import FakeYahoo, yfinance_sandbox  # noqa: F401


@pytest.fixture(autouse=True)
def only_data_commands(monkeypatch):
    """Parse with the data command alone, so these tests depend on no other command module."""
    monkeypatch.setattr(cli, "COMMAND_MODULES", ["engine.cli.data"])


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str) -> str:
    assert err.startswith("error: ") and err.endswith("\n") and err.count("\n") == 1, err
    return err


@pytest.fixture
def goog_csv(tmp_path, goog):
    p = tmp_path / "goog.csv"
    goog.write_csv(p)
    return p


def test_list_json_and_table(capsys):
    code, out, err = run(capsys, "data", "list", "--json")
    assert code == 0 and err == ""
    items = json.loads(out)
    syms = {i["symbol"]: i for i in items}
    assert {"SP500", "NASDAQ", "SYN-TREND", "SYN-RANGE", "SYN-VOLATILE"} <= set(syms)
    assert syms["SYN-TREND"]["synthetic"] is True and syms["SYN-TREND"]["source"] == "sample"
    assert set(items[0]) >= {"symbol", "source", "synthetic", "timeframe", "n_rows", "start", "end",
                             "n_rejected", "description", "path", "data_source", "licence"}
    sp = syms["SP500"]
    assert (sp["synthetic"], sp["source"]) == (False, "sample")
    assert (sp["n_rows"], sp["n_rejected"]) == (5031, 0)
    assert sp["data_source"] == "arch package example data (`arch.data.sp500`)"
    assert sp["licence"].startswith("NCSA Open Source License") and "NCSA" in sp["description"]
    assert syms["SYN-TREND"]["licence"] == "" and syms["SYN-TREND"]["data_source"] == ""
    code, out, _ = run(capsys, "data", "list")
    assert code == 0 and "SYN-TREND" in out and "yes" in out
    sp500_line = next(line for line in out.splitlines() if line.startswith("SP500 "))
    assert sp500_line.split()[-1] == "no"  # the synthetic column


def test_import_prints_report_and_refuses_silent_overwrite(capsys, goog_csv):
    code, out, err = run(capsys, "data", "import", str(goog_csv), "--symbol", "goog", "--json")
    assert code == 0, err
    rep = json.loads(out)
    assert rep["symbol"] == "GOOG" and rep["rows"] == 2148 and rep["rejected"] == 0
    assert rep["start"] == "2004-08-19T00:00:00" and rep["timeframe"] == "1d"
    code, out, err = run(capsys, "data", "import", str(goog_csv), "--symbol", "GOOG")
    assert code == 2 and out == ""
    assert "--overwrite" in one_line_error(err)
    code, out, _ = run(capsys, "data", "import", str(goog_csv), "--symbol", "GOOG", "--overwrite")
    assert code == 0 and "2148 rows kept" in out and "gaps: none" in out


def test_import_reports_rejections_in_text(capsys, tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("Date,Open,High,Low,Close,Volume\n2024-01-02,1,2,0.5,1.5,10\n"
                 "2024-01-03,1,0.9,0.5,1.5,10\n2024-01-02,1,2,0.5,1.5,10\n2024-01-04,1,2,0.5,1.5,-1\n")
    code, out, _ = run(capsys, "data", "import", str(p), "--symbol", "BAD")
    assert code == 0
    assert "1 rows kept of 4" in out
    assert "high < max(open, close)" in out and "duplicate timestamp" in out and "volume < 0" in out
    assert "e.g. row 2" in out


@pytest.mark.parametrize(("argv", "needle"), [
    (["data", "import", "/no/such/file.csv", "--symbol", "X"], "file not found"),
    (["data", "import", "{csv}", "--symbol", "bad symbol"], "invalid symbol"),
    (["data", "import", "{missing_col}", "--symbol", "X"], "missing required column"),
    (["data", "show", "NOPE"], "no dataset 'NOPE'"),
    (["data", "import", "{csv}"], "--symbol"),
    (["data", "frobnicate"], "invalid choice"),
])
def test_errors_are_one_line_with_exit_2(capsys, tmp_path, goog_csv, argv, needle):
    missing_col = tmp_path / "m.csv"
    missing_col.write_text("date,open,high,close\n2024-01-02,1,1,1\n")
    argv = [a.format(csv=goog_csv, missing_col=missing_col) for a in argv]
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # argparse errors exit from inside the parser
        code = exc.code
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert needle in one_line_error(err)


def test_show_sample_json(capsys):
    code, out, _ = run(capsys, "data", "show", "syn-trend", "--json")
    assert code == 0
    s = json.loads(out)
    assert s["symbol"] == "SYN-TREND" and s["synthetic"] is True and s["rows"] == 2608
    assert s["current_regime"] in {"bull", "bear", "sideways", "high_volatility"}
    assert len(s["fingerprint"]) == 16 and s["n_gaps"] == 0 and s["rejected"] == 0
    code, out, _ = run(capsys, "data", "show", "SYN-TREND")
    assert code == 0 and "(synthetic)" in out and "current regime:" in out


def test_show_the_real_default_sample(capsys):
    code, out, _ = run(capsys, "data", "show", "sp500", "--json")
    s = json.loads(out)
    assert code == 0 and s["symbol"] == "SP500" and s["synthetic"] is False
    assert (s["rows"], s["rejected"], s["n_gaps"], s["missing_bars"]) == (5031, 0, 1, 4)  # 9/11
    assert s["last_close"] == 2506.850098  # the S&P 500's published close on 2018-12-31
    code, out, _ = run(capsys, "data", "show", "SP500")
    first = out.splitlines()[0]
    assert code == 0 and "(synthetic)" not in first
    assert first.startswith("SP500: Real market data: S&P 500 index daily bars")
    assert "Licence: NCSA Open Source License" in first


def test_show_a_file_path(capsys, goog_csv):
    code, out, _ = run(capsys, "data", "show", str(goog_csv), "--json")
    assert code == 0 and json.loads(out)["rows"] == 2148


def test_samples_list_and_rebuild(capsys, tmp_path, monkeypatch):
    code, out, _ = run(capsys, "data", "samples", "--json")
    bundled = json.loads(out)
    assert code == 0 and len(bundled) >= 5
    assert [(e["symbol"], e["synthetic"]) for e in bundled[:2]] == [
        ("SP500", False), ("NASDAQ", False)]
    assert all(e["synthetic"] and "seed" in e for e in bundled[2:])
    assert all("NCSA" in e["licence"] and "seed" not in e for e in bundled[:2])
    code, out, _ = run(capsys, "data", "samples")
    n = len(bundled)
    assert code == 0 and out.startswith(f"bundled {n} samples (2 real, {n - 2} synthetic):")
    assert "SP500          real, arch package example data (`arch.data.sp500`); 5031 bars" in out
    assert "licence: NCSA Open Source License" in out and "seed 20150102" in out
    monkeypatch.setenv("STRATLAB_SAMPLES_DIR", str(tmp_path / "samples"))
    from engine.config import reset_settings

    reset_settings()
    code, out, _ = run(capsys, "data", "samples", "--rebuild", "--json")
    assert code == 0 and json.loads(out) == bundled
    assert (tmp_path / "samples" / "samples.json").is_file()


@pytest.mark.filterwarnings("ignore:The inplace keyword:Warning")
def test_download_with_fake_http(capsys, monkeypatch, yfinance_sandbox):  # noqa: F811
    monkeypatch.setattr(market, "download",
                        lambda *a, **k: real_download(*a, session=FakeYahoo(), **k))
    code, out, err = run(capsys, "data", "download", "FAKE", "--start", "2024-01-01",
                         "--end", "2024-01-04", "--json")
    assert code == 0, err
    rep = json.loads(out)
    assert rep["symbol"] == "FAKE" and rep["rows"] == 3 and rep["end"] == "2024-01-04T00:00:00"


@pytest.mark.filterwarnings("ignore:The inplace keyword:Warning")
def test_download_network_failure_is_one_line(capsys, monkeypatch, yfinance_sandbox):  # noqa: F811
    monkeypatch.setattr(market, "download",
                        lambda *a, **k: real_download(*a, session=FakeYahoo(fail=True), **k))
    code, out, err = run(capsys, "data", "download", "AAPL")
    assert code == 2 and out == ""
    assert "network" in one_line_error(err)
