"""One typed configuration: :class:`Settings`, read from environment variables.

Every environment variable the lab reads is a field of one of six sections — ``storage``,
``evolution``, ``neural``, ``retrain``, ``llm``, ``runtime`` — each a pydantic-settings model;
each subsystem takes its own section (``get_settings().neural.epochs``). The reference,
``docs/configuration.md``, is generated from these models (:func:`settings_markdown`,
``python -m engine config --markdown``) and a test keeps the two equal.

**One rule for numbers**, for environment variables, command-line flags, page values and
saved values alike (the field types below are shared by the run configurations):

- a *whole-number* setting takes digits only: ``50`` is accepted; ``50.0``, ``50.5``, ``5e1``
  and ``true`` are refused;
- a *number* setting takes any finite decimal (``0.1``, ``1e-3``, ``50``); ``nan`` and
  ``inf`` are refused;
- an empty variable counts as unset (the default applies).

Modules: ``rules`` (the field types: the one rule), ``sections`` (one model per subsystem),
``settings`` (:class:`Settings`, :func:`get_settings`), ``reference`` (the generated table).

A bad value raises :class:`ConfigError` (a :class:`~engine.errors.ParameterError`) naming the
variable, the rule and the fix, e.g. ``BATCH_SIZE=0 is not valid: must be a whole number from
1 to 65536; set BATCH_SIZE to a whole number from 1 to 65536 (default 32) or unset it``.

A section is read and validated the first time it is asked for, so a bad ``BATCH_SIZE``
stops training with that message but does not stop the app from opening. ``get_settings()``
returns the same object while the lab's variables keep their values (a changed variable —
a test's ``monkeypatch`` — gives a fresh read); :func:`reset_settings` forgets it outright.
"""

from engine.config.reference import settings_markdown, settings_table, settings_values
from engine.config.rules import (
    AtLeastOne,
    BatchSize,
    ConfigError,
    EliteSize,
    Epochs,
    FitnessThreshold,
    Flag,
    FolderPath,
    Generations,
    LearningRate,
    NonNegative,
    Number,
    NumberOrNone,
    PopulationSize,
    Positive,
    Probability,
    SequenceLength,
    Whole,
    describe,
)
from engine.config.sections import (
    ENV_NAMES,
    PROJECT_ROOT,
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
    problem,
    rule,
)
from engine.config.settings import Settings, debug_requested, get_settings, reset_settings

__all__ = [
    "ENV_NAMES", "PROJECT_ROOT", "SECTIONS", "AtLeastOne", "BatchSize", "ConfigError", "EliteSize",
    "Epochs", "EvolutionSettings", "FitnessThreshold", "Flag", "FolderPath", "Generations",
    "LLMSettings", "LearningRate", "NeuralSettings", "NonNegative", "Number", "NumberOrNone",
    "PopulationSize", "Positive", "Probability", "RetrainSettings", "RuntimeSettings", "Section",
    "SequenceLength", "Settings", "StorageSettings", "Whole", "check_value", "debug_requested",
    "describe", "env_name", "get_settings", "problem", "reset_settings", "rule",
    "settings_markdown", "settings_table", "settings_values",
]
