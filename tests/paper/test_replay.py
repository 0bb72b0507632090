"""The replay clock: a bar is processed once; kill -9 in a replay, then the same command,
gives exactly the ledger of an uninterrupted run."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.errors import ParameterError

TABLES = ("paper_books", "paper_sleeves", "paper_orders", "paper_fills", "paper_positions",
          "paper_trades", "paper_equity", "paper_risk_events")
SETUP = [
    ["paper", "create", "b", "--cash", "100000", "--commission", "0.001",
     "--start", "2001-01-01", "--correlation-window", "20"],
    ["paper", "add", "b", "trend", "--symbols", "SP500", "--strategy", "sma_cross",
     "--allocation", "0.5", "--stop-loss", "0.05"],
    ["paper", "add", "b", "swing", "--symbols", "NASDAQ", "--strategy", "rsi",
     "--allocation", "0.5", "--short"],
]
STEP = ["paper", "step", "b", "--to", "2008-12-31", "--json"]


def _engine(data_dir: Path, *argv: str, wait: bool = True):
    env = {**os.environ, "STRATLAB_DATA_DIR": str(data_dir)}
    env.pop("DATABASE_URL", None)
    cmd = [sys.executable, "-m", "engine", *argv]
    if not wait:
        return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
    return subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)


def _ledger(data_dir: Path) -> dict[str, list[tuple]]:
    con = sqlite3.connect(data_dir / "lab.db")
    try:
        out = {}
        for t in TABLES:
            cols = [r[1] for r in con.execute(f"PRAGMA table_info({t})")
                    if r[1] != "created_at"]
            out[t] = con.execute(f"SELECT {', '.join(cols)} FROM {t} ORDER BY id").fetchall()
        return out
    finally:
        con.close()


def _clock(data_dir: Path) -> str | None:
    con = sqlite3.connect(data_dir / "lab.db", timeout=30)
    try:
        return con.execute("SELECT clock FROM paper_books").fetchone()[0]
    except sqlite3.OperationalError:
        return None
    finally:
        con.close()


def test_kill_9_mid_replay_then_again_equals_an_uninterrupted_run(tmp_path):
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    for d in (whole, killed):
        for argv in SETUP:
            _engine(d, *argv)
    _engine(whole, *STEP)
    proc = _engine(killed, *STEP, wait=False)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        c = _clock(killed)
        if c is not None and c >= "2003-01-01":
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    interrupted_at = _clock(killed)
    assert interrupted_at is not None and interrupted_at < "2008-12-31"  # really mid-way
    _engine(killed, *STEP)
    a, b = _ledger(whole), _ledger(killed)
    assert len(a["paper_trades"]) > 10 and len(a["paper_equity"]) > 5000
    assert a == b


def test_a_processed_bar_is_never_processed_again(cli, isolated_lab):
    for argv in SETUP:
        cli(*argv)
    first = cli("paper", "step", "b", "--to", "2003-12-31", "--json")
    assert first["bars"] > 500
    before = _ledger(isolated_lab)
    again = cli("paper", "step", "b", "--to", "2003-12-31", "--json")
    assert again["bars"] == 0 and again["clock"] == first["clock"]
    assert _ledger(isolated_lab) == before


def test_step_needs_a_sleeve_and_one_bound(cli):
    from engine.paper import BookSettings, create_book, step_book

    create_book("empty", BookSettings())
    with pytest.raises(ParameterError, match="has no sleeves; add one"):
        step_book("empty", bars=5)
    with pytest.raises(ParameterError, match="--to DATE or --bars N"):
        step_book("empty")
