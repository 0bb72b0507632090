"""Redaction of API keys from everything stored, logged or shown.

:func:`protect` remembers a key the process uses; :func:`redact` replaces every remembered
key, and anything shaped like an Anthropic key (``sk-ant-…``, :data:`KEY_PATTERN`), by
``***``; :func:`redact_obj` does it to every string of a JSON-like object. Once a key is
protected, every log record of the process is redacted too (a record factory).
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

_secrets: set[str] = set()
_secrets_lock = threading.Lock()


#: Anything shaped like an Anthropic API key (``sk-ant-api03-…``, ``sk-ant-admin01-…``).
KEY_PATTERN = re.compile(r"sk-ant-[A-Za-z0-9_\-]{4,}")


def redact(text: str) -> str:
    """``text`` with every known API key, and anything shaped like one, replaced by ``***``."""
    for s in list(_secrets):
        if s:
            text = text.replace(s, "***")
    return KEY_PATTERN.sub("***", text)


def redact_obj(obj: Any) -> Any:
    """``obj`` (JSON-like: dicts, lists, strings) with :func:`redact` applied to every string."""
    if isinstance(obj, str):
        return redact(obj)
    if isinstance(obj, dict):
        return {redact_obj(k): redact_obj(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [redact_obj(v) for v in obj]
    return obj


_factory_installed = False


def _install_record_factory() -> None:
    """Redact known keys in every log record of the process (any logger, any handler)."""
    global _factory_installed
    if _factory_installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if _secrets:
            try:
                msg = record.getMessage()
            except Exception:  # a malformed log call: leave it to logging's own handling
                return record
            clean = redact(msg)
            if clean != msg:
                record.msg, record.args = clean, None
        return record

    logging.setLogRecordFactory(factory)
    _factory_installed = True


def protect(key: str) -> None:
    """Remember ``key`` so that :func:`redact` and every log record hide it."""
    with _secrets_lock:
        _secrets.add(key)
        _install_record_factory()


__all__ = ["KEY_PATTERN", "protect", "redact", "redact_obj"]
