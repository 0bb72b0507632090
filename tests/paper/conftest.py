"""Helpers: run the command line in-process and read its JSON."""

from __future__ import annotations

import json

import pytest

from engine.cli import main


@pytest.fixture
def cli(capsys):
    def run(*argv: str):
        capsys.readouterr()
        rc = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        assert rc == 0, err
        return json.loads(out) if "--json" in argv else out

    return run
