"""Work-arounds for known bugs in the Python versions the product supports.

CPython 3.11.0–3.11.7 and 3.12.0–3.12.1 keep ``ast.parse``'s recursion counter in
interpreter-wide state (gh-106905, fixed in 3.11.8 and 3.12.2). When two threads parse at
once and a garbage collection inside one parse lets the other run, the counter is corrupted
and a parse fails with ``SystemError: AST constructor recursion depth mismatch``. The app hits
exactly that: Streamlit parses a page script on every rerun while a scheduler thread formats
a failed job's traceback — and 3.11's traceback formatting parses the failing source line to
place its ``^^^^`` markers. :func:`guard_ast_parse` makes ``ast.parse`` take one process-wide
lock on the affected versions; elsewhere it changes nothing.
"""

from __future__ import annotations

import ast
import functools
import sys
import threading

_LOCK = threading.RLock()  # re-entrant: a GC callback inside a parse may parse again


def ast_parse_is_thread_safe(version: tuple[int, int, int] | None = None) -> bool:
    """Whether this Python's ``ast.parse`` survives concurrent use (gh-106905 fixed)."""
    major, minor, micro = version or sys.version_info[:3]
    if (major, minor) == (3, 11):
        return micro >= 8
    if (major, minor) == (3, 12):
        return micro >= 2
    return (major, minor) >= (3, 13)


def guard_ast_parse() -> bool:
    """Serialise ``ast.parse`` where it is not thread-safe; True if the guard is in place.

    Idempotent. Callers look ``ast.parse`` up at call time (Streamlit's magic, traceback),
    so replacing the module attribute covers them.
    """
    if ast_parse_is_thread_safe():
        return False
    if getattr(ast.parse, "_stratlab_guarded", False):
        return True
    original = ast.parse

    @functools.wraps(original)
    def parse(*args, **kwargs):
        with _LOCK:
            return original(*args, **kwargs)

    parse._stratlab_guarded = True  # type: ignore[attr-defined]
    ast.parse = parse
    return True
