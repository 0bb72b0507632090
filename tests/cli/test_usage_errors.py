"""Usage errors: one line on stderr, exit 2, pointing at the --help of the command typed."""

from __future__ import annotations

import subprocess
import sys

import pytest

from engine.cli import main


@pytest.mark.parametrize(("argv", "line"), [
    ([], "error: the following arguments are required: command "
         "(see `python -m engine --help`)"),
    (["backtest"], "error: the following arguments are required: --data, --strategy "
                   "(see `python -m engine backtest --help`)"),
    (["evolution", "history"], "error: the following arguments are required: run "
                               "(see `python -m engine evolution history --help`)"),
])
def test_usage_error_points_at_the_commands_help(argv, line, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert capsys.readouterr().err == line + "\n"


def test_usage_error_from_the_real_command_line():
    out = subprocess.run([sys.executable, "-m", "engine", "nosuch"], capture_output=True,
                         text=True)
    assert out.returncode == 2 and out.stdout == ""
    err = out.stderr.strip()
    assert err.startswith("error: argument command: invalid choice: 'nosuch'")
    assert err.endswith("(see `python -m engine --help`)")
    assert "engine engine" not in err
