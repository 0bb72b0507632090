"""Domain errors.

Every error the engine raises on bad input is a :class:`StratLabError` whose message names the
problem *and* the fix, so the command line can print it as one line and a page can show it as
is. Subclasses exist so callers (and tests) can tell kinds apart.
"""

from __future__ import annotations


class StratLabError(Exception):
    """Base class: a user-facing problem with a message that says how to fix it."""


class DataError(StratLabError):
    """Market data that cannot be used (malformed file, bad columns, no valid rows...)."""


class DatasetNotFound(StratLabError):
    """A symbol or path that names no dataset."""


class ParameterError(StratLabError):
    """A strategy or backtest parameter outside its allowed range or of the wrong kind."""


class DownloadError(StratLabError):
    """Fetching market data from the network failed or is unavailable."""


class ModelIntegrityError(StratLabError):
    """A model file whose SHA-256 no longer matches the hash recorded when it was registered."""
