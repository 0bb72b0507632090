"""Every command fed its bad inputs: a non-zero exit, one line naming the fix, never the
catch-all ``internal error`` (issue 9).

Rows run in-process through :func:`engine.cli.main` (the environment's variables set with
monkeypatch and the settings re-read); a few run the real command line in a subprocess.
Each row is a bad input that, before issue 9, either exited 0 (NaN switched a guard off,
an unbounded size ran on) or ended in ``internal error <Type>``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine import db
from engine.cli import build_parser, main
from engine.cli.args import all_numeric_types, option_rules, rules_markdown
from engine.config import reset_settings

ROOT = Path(__file__).resolve().parents[2]
SYM = "SYN-TREND"  # a bundled sample: no import needed
BT = ["backtest", "--data", SYM, "--strategy", "sma_cross"]
SW = ["sweep", "--data", SYM, "--strategy", "sma_cross"]
EV = ["evolve", "--data", SYM, "--backend", "inline"]
TR = ["train", "--data", SYM, "--model", "lstm"]
RP = ["replay", SYM, "--start", "2020-01-01", "--end", "2020-03-01", "--provider", "offline"]


def run_cli(capsys, argv: list[str]) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse: a usage error
        code = exit_.code
    out, err = capsys.readouterr()
    return int(code), out, err


def assert_refused(code: int, err: str, fragment: str) -> None:
    assert code != 0, err
    assert "internal error" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert fragment in lines[0], lines[0]


# ------------------------------------------------------------------ flags (items 15, 16)

FLAG_ROWS = [
    # NaN and inf never pass a numeric option
    (BT + ["--cash", "nan"], "argument --cash: nan is not valid: must be a finite number in "
                             "(0, 1e+12] (nan and inf are refused)"),
    (BT + ["--cash", "inf"], "argument --cash: inf is not valid"),
    (BT + ["--cash", "1e306"], "must be a finite number in (0, 1e+12]"),
    (BT + ["--commission", "nan"], "argument --commission: nan is not valid"),
    (BT + ["--commission", "-0.1"], "must be a finite number in [0, 0.1)"),
    (BT + ["--stop-loss", "nan"], "argument --stop-loss: nan is not valid"),
    (BT + ["--take-profit", "inf"], "argument --take-profit: inf is not valid"),
    (BT + ["--size", "0"], "argument --size: 0 is not valid: must be a finite number in (0, 1]"),
    (BT + ["--cash", "lots"], "argument --cash: 'lots' is not valid"),
    # sizes have a ceiling
    (BT + ["--max-positions", "1000000000"],
     "argument --max-positions: 1000000000 is not valid: must be a whole number from 1 to 1,000"),
    (BT + ["--max-positions", "2.5"], "(written without a decimal point)"),
    (SW + ["--top", "-1"], "argument --top: -1 is not valid"),
    (SW + ["--grid", "fast=1:1000000", "--grid", "slow=1:1000000"],
     "the grid has 1,000,000,000,000 combinations (1,000,000 fast x 1,000,000 slow), above "
     "the cap of 100,000 (MAX_SWEEP_COMBINATIONS); narrow a --grid range"),
    (SW + ["--grid", "fast=1:nan"], "START, STOP and STEP must be finite numbers"),
    (SW + ["--grid", "fast=-inf:5"], "must be finite numbers (nan and inf are refused)"),
    (SW + ["--grid", "fast=1:5:nan"], "must be finite numbers"),
    (["history", "99999999999999999999999"],
     "argument run_id: 99999999999999999999999 is not valid: must be a whole number from 1"),
    (["history", "--limit", "0"], "argument --limit: 0 is not valid"),
    (EV + ["--population", "100000000"],
     "argument --population: 100000000 is not valid: must be a whole number from 4 to 100,000"),
    (EV + ["--threshold", "nan"], "argument --threshold: nan is not valid: must be a finite "
                                  "number, or none to turn it off"),
    (EV + ["--threshold", "inf"], "argument --threshold: inf is not valid"),
    (EV + ["--generations", "-1"], "argument --generations: -1 is not valid"),
    (EV + ["--generations", "10000000"], "must be a whole number from 0 to 100,000"),
    (EV + ["--seed", "-1"], "argument --seed: -1 is not valid"),
    (EV + ["--islands", "0"], "argument --islands: 0 is not valid: must be a whole number "
                              "from 1 to 64"),
    (EV + ["--crossover-rate", "1.5"], "argument --crossover-rate: 1.5 is not valid"),
    (EV + ["--mutation-rate", "nan"], "argument --mutation-rate: nan is not valid"),
    (EV + ["--oos", "inf"], "argument --oos: inf is not valid"),
    (EV + ["--folds", "1000"], "argument --folds: 1000 is not valid"),
    (EV + ["--workers", "0"], "argument --workers: 0 is not valid"),
    (EV + ["--elite", "1e9"], "argument --elite: '1e9' is not valid"),
    (EV + ["--commission", "nan"], "argument --commission: nan is not valid"),
    (["evolution", "history", "abc"], "argument run: 'abc' is not valid"),
    (["evolution", "population", "1", "--generation", "-1"],
     "argument --generation: -1 is not valid"),
    (RP + ["--max-cost", "nan"], "argument --max-cost: nan is not valid: must be a finite "
                                 "number ≥ 0"),
    (RP + ["--max-cost", "-1"], "argument --max-cost: -1 is not valid"),
    (RP + ["--every", "0"], "argument --every: 0 is not valid"),
    (["models", "list", "--limit", "0"], "argument --limit: 0 is not valid"),
    (["retrain", "history", "--limit", "nan"], "argument --limit: 'nan' is not valid"),
    (TR + ["--threads", "-1"], "argument --threads: -1 is not valid: must be a whole number "
                               "from 1 to 1,024"),
    (TR + ["--epochs", "0"], "argument --epochs: 0 is not valid"),
    (TR + ["--lr", "nan"], "argument --lr: nan is not valid"),
    (TR + ["--batch-size", "0"], "argument --batch-size: 0 is not valid"),
    (TR + ["--seq-len", "100000"], "argument --seq-len: 100000 is not valid"),
    (TR + ["--val-fraction", "0.6"], "argument --val-fraction: 0.6 is not valid"),
    (TR + ["--prob-threshold", "inf"], "argument --prob-threshold: inf is not valid"),
    (TR + ["--threshold", "nan"], "argument --threshold: nan is not valid"),
    (TR + ["--hidden", "100000000"], "argument --hidden: 100000000 is not valid"),
    (TR + ["--progress-run", "0"], "argument --progress-run: 0 is not valid"),
    # values checked by the engine (already one line before issue 9; kept that way)
    (["backtest", "--data", SYM, "--strategy", "bollinger", "--param", "std=nan"],
     "bollinger parameter std must be finite, got 'nan'"),
    (BT + ["--param", "fast=1e400"], "parameter fast must be finite"),
    (BT + ["--start", "notadate"], "start 'notadate' is not a date: use YYYY-MM-DD"),
    (SW + ["--grid", "fast=1:3:0.0000001"], "has 20000001 values; use a coarser STEP"),
    (["history", "999"], "no saved backtest with id 999"),
    (["retrain", "policy", "--set", "accuracy_threshold=nan"],
     "accuracy_threshold=nan is not valid: must be a finite number ≥ 0"),
    (["evolution", "promote", "1", "best", "--name", "x"], "no evolution run 1"),
]


@pytest.mark.parametrize(("argv", "fragment"), FLAG_ROWS,
                         ids=[" ".join(r[0][:1] + r[0][-2:]) for r in FLAG_ROWS])
def test_bad_flag_is_refused_with_its_rule(capsys, argv, fragment):
    code, out, err = run_cli(capsys, argv)
    assert_refused(code, err, fragment)
    assert out == ""


def test_no_numeric_option_is_a_plain_int_or_float():
    # a plain type=float takes nan and inf; a plain type=int any size
    assert all_numeric_types(build_parser()) == []


def test_help_states_each_rule(capsys):
    with pytest.raises(SystemExit):
        main(["evolve", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "population size (all islands); a whole number from 4 to 100,000" in text
    assert "a finite number, or none to turn it off" in text


def test_every_numeric_option_is_in_the_docs_table():
    rows = option_rules(build_parser())
    assert ("evolve", "--population", "a whole number from 4 to 100,000") in rows
    assert len(rows) >= 50
    docs = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert rules_markdown(build_parser()) in docs


# ---------------------------------------------------------- files at import (items 17, 18)

def _days(n: int) -> list[datetime]:
    return [datetime(2024, 1, 1) + timedelta(days=i) for i in range(n)]


def _csv(tmp_path: Path, name: str, dates: list[str], price: str = "10") -> Path:
    p = tmp_path / name
    rows = [f'{d},"{price}","{price}","{price}","{price}",100' for d in dates]
    p.write_text("date,open,high,low,close,volume\n" + "\n".join(rows) + "\n")
    return p


def _file_rows(tmp_path: Path) -> list[tuple[list[str], str]]:
    days = _days(30)
    iso = [d.strftime("%Y-%m-%d") for d in days]
    secs = [int(d.replace(tzinfo=UTC).timestamp()) for d in days]
    mixed_dates = [d.strftime("%d/%m/%Y") for d in days[:20]] + \
        [d.strftime("%m/%d/%Y") for d in days[20:]]
    mixed_epochs = [str(s) for s in secs[:5]] + [str(s * 1000) for s in secs[5:]]
    (tmp_path / "folder.csv").mkdir()
    return [
        (["data", "import", str(_csv(tmp_path, "comma.csv", iso, "1,5")), "--symbol", "C"],
         "numbers written with a decimal comma in open, high, low, close (rows 1, 2, 3, 4, 5 "
         "and 25 more"),
        (["data", "import", str(_csv(tmp_path, "dates.csv", mixed_dates)), "--symbol", "D"],
         "the dates mix month/day/year (rows 21, 22, 23, 24, 25 and 5 more"),
        (["data", "import", str(_csv(tmp_path, "epochs.csv", mixed_epochs)), "--symbol", "E"],
         "the epoch timestamps mix units: milliseconds in rows 6"),
        (["data", "import", str(_csv(tmp_path, "huge.csv", iso, "1e306")), "--symbol", "H"],
         "prices must lie between 1e-06 and 1e+09"),
        (["data", "import", str(_csv(tmp_path, "tiny.csv", iso, "1e-306")), "--symbol", "T"],
         "price outside [1e-06, 1e+09]: 30"),
        (["backtest", "--data", str(_csv(tmp_path, "huge2.csv", iso, "1e306")), "--strategy",
          "rsi"], "prices must lie between 1e-06 and 1e+09"),
        (["data", "show", str(tmp_path / "folder.csv")], "folder.csv is a directory; give a "
                                                         "CSV or Parquet file"),
        (["data", "import", str(tmp_path / "folder.csv"), "--symbol", "F"], "is a directory"),
        (["data", "import", str(tmp_path / "nope.csv"), "--symbol", "N"], "file not found"),
    ]


def test_files_that_would_be_misread_are_refused(capsys, tmp_path):
    for argv, fragment in _file_rows(tmp_path):
        code, _, err = run_cli(capsys, argv)
        assert_refused(code, err, fragment)
    code, out, _ = run_cli(capsys, ["data", "list", "--json"])
    assert code == 0 and all(s not in out for s in ('"C"', '"D"', '"E"', '"H"', '"T"'))


def test_a_generation_the_run_has_not_stored_is_refused(capsys):
    code, out, err = run_cli(capsys, EV + ["--population", "8", "--generations", "1",
                                           "--seed", "1", "--start", "2023-06-01", "--json"])
    assert code == 0, err
    import json

    run = json.loads(out)["run_id"]
    code, _, err = run_cli(capsys, ["evolution", "population", str(run), "--generation",
                                    "99999"])
    # before: `[]` and exit 0
    assert_refused(code, err, f"run {run} has no generation 99999: its stored generations "
                              "are 0 to 1; give one of those")
    code, out, _ = run_cli(capsys, ["evolution", "population", str(run), "--generation", "1",
                                    "--json"])
    assert code == 0 and len(json.loads(out)) == 8
    # a run whose population is not drawn yet has an empty one (the page shows "No
    # population yet"), whatever generation is asked
    from engine import evolution as ev

    new = ev.create_run(ev.EvolutionConfig(symbols=[SYM], population_size=8, seed=1,
                                           backend="inline"))
    code, out, err = run_cli(capsys, ["evolution", "population", str(new), "--generation", "0",
                                      "--json"])
    assert (code, json.loads(out)) == (0, []), err


# ------------------------------------------------------------- the environment (in-process)

def _env(monkeypatch, **values: str) -> None:
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    reset_settings()
    db.dispose_all()


def _env_rows(tmp: Path) -> list[tuple[dict[str, str], list[str], str]]:
    (tmp / "dir.db").mkdir()
    (tmp / "bars.csv").write_text("date,open,high,low,close\n2024-01-02,1,1,1,1\n")
    (tmp / "corrupt.db").write_bytes(b"SQLite format 2\x00" + bytes(range(256)) * 20)
    (tmp / "a_file").write_text("not a directory\n")
    url = "sqlite:///" + (tmp / "dir.db").as_posix()
    return [
        ({"DATABASE_URL": "not a url"}, ["data", "list"],
         "DATABASE_URL is not a database URL SQLAlchemy can parse; set it to sqlite:///"),
        ({"DATABASE_URL": "foo://bob:s3cret@host/db"}, ["history"],
         "DATABASE_URL foo://bob:***@host/db names the database dialect 'foo'"),
        ({"DATABASE_URL": "mysql://bob:s3cret@127.0.0.1:1/db"}, ["evolution", "list"],
         "needs the database driver 'MySQLdb', which is not installed; install it (`pip "
         "install mysqlclient`)"),
        ({"DATABASE_URL": url}, ["data", "list"],
         f"the database path {tmp / 'dir.db'} is a directory; point DATABASE_URL at a file"),
        ({"DATABASE_URL": "sqlite:///" + (tmp / "bars.csv").as_posix()}, ["models", "list"],
         "bars.csv is not an SQLite database (a corrupt file, or another kind of file such "
         "as a CSV)"),
        ({"DATABASE_URL": "sqlite:///" + (tmp / "corrupt.db").as_posix()}, ["costs"],
         "corrupt.db is not an SQLite database"),
        ({"STRATLAB_DATA_DIR": str(tmp / "a_file")}, ["data", "list"],
         f"{tmp / 'a_file'} is a file where the lab needs a directory"),
        ({"STRATLAB_DATA_DIR": str(tmp / "a_file" / "lab")}, ["retrain", "queue"],
         "set STRATLAB_DATA_DIR to a directory, or move the file away"),
    ]


def test_environment_failures_name_their_fix(capsys, monkeypatch, tmp_path):
    for values, argv, fragment in _env_rows(tmp_path):
        _env(monkeypatch, **values)
        code, _, err = run_cli(capsys, argv)
        assert_refused(code, err, fragment)
        assert "s3cret" not in err
        for k in values:
            monkeypatch.delenv(k)
    reset_settings()


READ_ONLY_ROWS = [
    (["backtest", "--data", SYM, "--strategy", "sma_cross"], True),
    (["data", "import", "{csv}", "--symbol", "RO"], True),
    (["evolve", "--data", SYM, "--population", "8", "--generations", "1", "--backend",
      "inline"], True),
    (["evolution", "reset", "1"], False),
    (["retrain", "policy", "--set", "accuracy_threshold=0.1"], True),
    (["analyze", SYM, "--provider", "offline"], False),
    (["data", "list"], False),
    (["history"], False),
    (["evolution", "list"], False),
    (["models", "list"], False),
    (["retrain", "queue"], False),
    (["costs"], False),
]


@pytest.mark.parametrize(("argv", "writes"), READ_ONLY_ROWS,
                         ids=[" ".join(r[0][:2]) for r in READ_ONLY_ROWS])
def test_a_read_only_database_is_named_by_every_command(capsys, monkeypatch, tmp_path, argv,
                                                        writes):
    """A lab whose database is read-only (SQLite ``mode=ro``, as a read-only directory or a
    file without write permission behaves): writes are refused naming the fix; reads work or
    fail with a named problem, never an internal error."""
    code, _, err = run_cli(capsys, ["data", "list"])  # create the lab
    assert code == 0, err
    lab = Path(os.environ["STRATLAB_DATA_DIR"]) / "lab.db"
    _env(monkeypatch, DATABASE_URL=f"sqlite:///file:{lab.as_posix()}?mode=ro&uri=true")
    csv = _csv(tmp_path, "ok.csv", [d.strftime("%Y-%m-%d") for d in _days(30)])
    code, _, err = run_cli(capsys, [a.replace("{csv}", str(csv)) for a in argv])
    assert "internal error" not in err
    if writes:
        assert_refused(code, err, "is read-only; make it and its folder writable")
    elif code != 0:
        assert err.startswith("error: ") and len(err.strip().splitlines()) == 1


def test_a_data_directory_that_cannot_be_written_is_named(capsys, monkeypatch):
    # as root the permission bits do not stop a write, so mkdir is made to fail as it would
    import errno

    real_mkdir = Path.mkdir
    data_dir = Path(os.environ["STRATLAB_DATA_DIR"])

    def mkdir(self, *a, **k):
        if self == data_dir or data_dir in self.parents:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_mkdir(self, *a, **k)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    code, _, err = run_cli(capsys, ["data", "list"])
    assert_refused(code, err, f"cannot write {data_dir}: Permission denied; make it writable, "
                              "or set STRATLAB_DATA_DIR to a writable directory")


def test_a_dataset_folder_polars_cannot_write_is_named(capsys, monkeypatch, tmp_path):
    # polars raises PermissionError("Permission denied (os error 13): PATH"), no .filename
    import polars as pl

    def refuse(self, path, *a, **k):
        raise PermissionError(f"Permission denied (os error 13): {path}")

    monkeypatch.setattr(pl.DataFrame, "write_parquet", refuse)
    csv = _csv(tmp_path, "ok.csv", [d.strftime("%Y-%m-%d") for d in _days(30)])
    code, _, err = run_cli(capsys, ["data", "import", str(csv), "--symbol", "OK"])
    datasets = Path(os.environ["STRATLAB_DATA_DIR"]) / "datasets"
    assert_refused(code, err, f"cannot write {datasets}/")
    assert "Permission denied; make it writable, or set STRATLAB_DATA_DIR" in err


# --------------------------------------------------------- the real command line (subprocess)

def _cli(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "STRATLAB_DEBUG")}
    return subprocess.run([sys.executable, "-m", "engine", *argv], capture_output=True,
                          text=True, env={**full, **env}, cwd=ROOT, timeout=120)


def test_unreachable_server_names_it_without_the_password():
    p = _cli({"DATABASE_URL": "postgresql+psycopg://bob:s3cret@127.0.0.1:9/lab"}, "data", "list")
    assert_refused(p.returncode, p.stderr, "cannot use the database "
                                           "postgresql+psycopg://bob:***@127.0.0.1:9/lab:")
    assert "s3cret" not in p.stderr and "check that the server is running" in p.stderr


def test_bad_model_storage_path_names_the_variable(tmp_path):
    blocker = tmp_path / "models_file"
    blocker.write_text("x")
    p = _cli({"MODEL_STORAGE_PATH": str(blocker)}, *TR, "--epochs", "1", "--hidden", "4",
             "--layers", "1", "--seq-len", "10", "--threads", "1", "--start", "2023-01-01")
    assert_refused(p.returncode, p.stderr, f"{blocker} is a file where the lab needs a "
                                           "directory")
    assert "set MODEL_STORAGE_PATH to a directory" in p.stderr


def test_a_ray_backend_that_cannot_start_names_the_fix():
    p = _cli({"STRATLAB_RAY_ADDRESS": "auto", "RAY_ADDRESS": ""}, *EV[:3], "--population", "8",
             "--generations", "1", "--backend", "ray")
    assert_refused(p.returncode, p.stderr, "the Ray backend could not start")
    assert "use --backend process" in p.stderr


def test_the_sweep_cap_is_a_setting(capsys, monkeypatch):
    from engine.backtest.sweeps import MAX_SWEEP_COMBINATIONS

    assert MAX_SWEEP_COMBINATIONS == 100_000
    _env(monkeypatch, MAX_SWEEP_COMBINATIONS="10")
    # 4 x 3 = 12 combinations: above a cap of 10
    code, _, err = run_cli(capsys, SW + ["--grid", "fast=5:8", "--grid", "slow=20:22"])
    assert_refused(code, err, "the grid has 12 combinations (4 fast x 3 slow), above the cap "
                              "of 10 (MAX_SWEEP_COMBINATIONS)")
    _env(monkeypatch, MAX_SWEEP_COMBINATIONS="12")
    code, out, err = run_cli(capsys, SW + ["--grid", "fast=5:8", "--grid", "slow=20:22",
                                           "--json"])
    assert code == 0, err
    _env(monkeypatch, MAX_SWEEP_COMBINATIONS="nan")
    code, _, err = run_cli(capsys, SW + ["--grid", "fast=5:8"])
    assert_refused(code, err, "MAX_SWEEP_COMBINATIONS=nan is not valid")
