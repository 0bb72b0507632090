"""engine.compat: the ``ast.parse`` guard for CPython's gh-106905 (3.11.0–3.11.7, 3.12.0–1).

The CI failure it answers: a System-page test saw ``SystemError: AST constructor recursion
depth mismatch`` when Streamlit parsed the page while a scheduler thread formatted a failed
job's traceback (3.11's traceback parses the failing line to place its carets).
"""

from __future__ import annotations

import ast
import difflib
import gc
import pathlib
import random
import sys
import threading

import pytest

from engine import compat


@pytest.mark.parametrize(("version", "safe"), [
    ((3, 11, 7), False), ((3, 11, 8), True),   # the fix's 3.11 backport (GH-113476)
    ((3, 12, 1), False), ((3, 12, 2), True),
    ((3, 13, 0), True), ((3, 14, 1), True),
])
def test_affected_versions(version, safe):
    assert compat.ast_parse_is_thread_safe(version) is safe


def test_guard_is_installed_only_where_needed_and_parses_the_same():
    source = "def f(x):\n    return [y * 2 for y in range(x) if y % 3]\n"
    expected = ast.dump(compile(source, "<t>", "exec", ast.PyCF_ONLY_AST))
    installed = compat.guard_ast_parse()
    assert installed is (not compat.ast_parse_is_thread_safe())
    assert compat.guard_ast_parse() is installed  # idempotent: never wrapped twice
    assert getattr(ast.parse, "_stratlab_guarded", False) is installed
    assert ast.dump(ast.parse(source)) == expected
    with pytest.raises(SyntaxError, match="invalid syntax"):
        ast.parse("def (:")


def test_concurrent_parses_under_gc_pressure_never_fail():
    """The reproducer of gh-106905 (threads parsing while a GC callback does work that lets
    another thread run): on 3.11.7 it fails within seconds unguarded."""
    compat.guard_ast_parse()
    content = pathlib.Path(ast.__file__).read_text()
    errors: list[BaseException] = []

    def churn(phase, info):
        a = [f"{random.randint(0, 10)}\n" for _ in range(60)]
        b = [f"{random.randint(0, 10)}\n" for _ in range(60)]
        list(difflib.unified_diff(a, b))

    def work():
        try:
            for _ in range(6):
                ast.parse(content)
        except SystemError as exc:
            errors.append(exc)

    gc.callbacks.append(churn)
    try:
        threads = [threading.Thread(target=work) for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        gc.callbacks.remove(churn)
    assert not errors, f"{errors[0]!r} on Python {sys.version.split()[0]}"
