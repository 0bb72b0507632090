"""The :class:`Settings` object and the process-wide :func:`get_settings`."""

from __future__ import annotations

import os
import threading
from functools import cached_property
from pathlib import Path
from typing import Any

from engine.config.rules import ConfigError
from engine.config.sections import (
    ENV_NAMES,
    SECTIONS,
    EvolutionSettings,
    LLMSettings,
    NeuralSettings,
    RetrainSettings,
    RuntimeSettings,
    Section,
    StorageSettings,
    check_value,
    env_name,
)


class Settings:
    """The lab's settings: one section per subsystem, each validated on first use.

    ``Settings(neural=NeuralSettings(epochs=3))`` fixes a section instead of reading it.
    """

    def __init__(self, **sections: Section) -> None:
        unknown = set(sections) - set(SECTIONS)
        if unknown:
            raise ConfigError(f"unknown settings sections {sorted(unknown)}; known: "
                              f"{', '.join(SECTIONS)}")
        self.__dict__.update(sections)

    storage = cached_property(lambda self: StorageSettings())
    evolution = cached_property(lambda self: EvolutionSettings())
    neural = cached_property(lambda self: NeuralSettings())
    retrain = cached_property(lambda self: RetrainSettings())
    llm = cached_property(lambda self: LLMSettings())
    runtime = cached_property(lambda self: RuntimeSettings())

    # the storage fields every helper already uses, kept at the top level
    @property
    def data_dir(self) -> Path:
        return self.storage.data_dir

    @property
    def samples_dir(self) -> Path:
        return self.storage.samples_dir

    @property
    def database_url(self) -> str:
        return self.storage.database_url

    @property
    def datasets_dir(self) -> Path:
        return self.storage.datasets_dir

    def default(self, section: str, field: str) -> Any:
        """One environment default, for a run configuration's unset field.

        Normally the section's value; when another variable of the section is bad, only
        this one is checked — a flag that overrides ``EPOCHS`` never reads ``EPOCHS``, while
        the default that *is* used passes the same rule and message.
        """
        try:
            return getattr(getattr(self, section), field)
        except ConfigError:
            cls = SECTIONS[section]
            env = env_name(cls, field)
            raw = os.environ.get(env)
            if raw is None or not raw.strip():
                return cls.model_fields[field].default
            return check_value(cls, field, raw, env)

    def __repr__(self) -> str:
        read = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items() if k in SECTIONS)
        return f"Settings({read})"


_lock = threading.Lock()
_cached: tuple[tuple[str | None, ...], Settings] | None = None


def get_settings() -> Settings:
    """The process-wide settings (re-read when one of the lab's variables changed)."""
    global _cached
    snapshot = tuple(os.environ.get(n) for n in ENV_NAMES)
    with _lock:
        if _cached is None or _cached[0] != snapshot:
            _cached = (snapshot, Settings())
        return _cached[1]


def reset_settings() -> None:
    """Forget cached settings so the next :func:`get_settings` re-reads the environment."""
    global _cached
    with _lock:
        _cached = None



def debug_requested() -> bool:
    """``STRATLAB_DEBUG`` for the command line's error path (a value that is not a flag
    counts as asking for the traceback: this is asked while reporting another error)."""
    try:
        return get_settings().runtime.debug
    except ConfigError:
        return True
