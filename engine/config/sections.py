"""The six sections of the settings, one pydantic-settings model per subsystem.

Each field is read from its environment variable (the name users set, exactly; an empty
value counts as unset) and checked by the types of :mod:`engine.config.rules`. A bad value
raises :class:`~engine.config.rules.ConfigError` naming the variable, the rule and the fix.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import Field, SecretStr, TypeAdapter, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

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
    PopulationSize,
    Positive,
    Probability,
    SequenceLength,
    describe,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _setting(env: str, default: Any, meaning: str, shown: str | None = None,
             accepts: str | None = None) -> Any:
    """A field read from ``env``; ``shown`` is the default as the reference prints it,
    ``accepts`` the rule in words where the type does not say it (paths, text)."""
    extra = {"env": env, "shown": shown if shown is not None else _show(default)}
    if accepts:
        extra["accepts"] = accepts
    return Field(default, validation_alias=env, description=meaning, json_schema_extra=extra)


def _show(value: Any) -> str:
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Section(BaseSettings):
    """A section of the settings: read from the environment, validated, refused with a fix."""

    # not populate_by_name: pydantic-settings would then also read ``batch_size`` from the
    # environment; arguments by field name are mapped to the variable's name instead.
    model_config = SettingsConfigDict(extra="ignore", case_sensitive=True,
                                      env_ignore_empty=True)
    title: ClassVar[str] = ""

    def __init__(self, **values: Any) -> None:
        fields = type(self).model_fields
        by_env = {(env_name(type(self), k) if k in fields else k): v for k, v in values.items()}
        try:
            super().__init__(**by_env)
        except ValidationError as exc:
            raise ConfigError("; ".join(_explain(type(self), e, values)
                                        for e in exc.errors())) from None


class StorageSettings(Section):
    title: ClassVar[str] = "where the lab keeps its state"

    data_dir: FolderPath = _setting(
        "STRATLAB_DATA_DIR", PROJECT_ROOT / "data",
        "runtime state: `lab.db`, imported datasets (`datasets/`), models",
        "`data/` beside `engine/`")
    samples_dir: FolderPath = _setting(
        "STRATLAB_SAMPLES_DIR", PROJECT_ROOT / "data" / "samples",
        "the bundled sample datasets", "`data/samples/` beside `engine/`")
    database_url_override: str | None = _setting(
        "DATABASE_URL", None, "any SQLAlchemy URL; PostgreSQL (`postgresql+psycopg://…`) "
        "works too", "`sqlite:///<STRATLAB_DATA_DIR>/lab.db`",
        "an SQLAlchemy database URL")
    model_storage_path: FolderPath | None = _setting(
        "MODEL_STORAGE_PATH", None, "neural model files (`<name>-<stamp>.pt`)",
        "`<STRATLAB_DATA_DIR>/models`", "a path")
    scaler_storage_path: FolderPath | None = _setting(
        "SCALER_STORAGE_PATH", None, "copies of the models' scalers (JSON)",
        "`<STRATLAB_DATA_DIR>/scalers`", "a path")
    version_storage_path: FolderPath | None = _setting(
        "VERSION_STORAGE_PATH", None, "one JSON card per model version",
        "`<STRATLAB_DATA_DIR>/model_versions`", "a path")

    @property
    def database_url(self) -> str:
        """``DATABASE_URL`` if set, else an SQLite file inside the data directory."""
        if self.database_url_override:
            return self.database_url_override
        return f"sqlite:///{(self.data_dir / 'lab.db').as_posix()}"

    @property
    def datasets_dir(self) -> Path:
        return self.data_dir / "datasets"

    @property
    def models_dir(self) -> Path:
        return self.model_storage_path or self.data_dir / "models"

    @property
    def scalers_dir(self) -> Path:
        return self.scaler_storage_path or self.data_dir / "scalers"

    @property
    def versions_dir(self) -> Path:
        return self.version_storage_path or self.data_dir / "model_versions"


class EvolutionSettings(Section):
    title: ClassVar[str] = "defaults of a new evolution run (a stored run keeps its own values)"

    population_size: PopulationSize = _setting(
        "POPULATION_SIZE", 50, "individuals per run, over all islands (at least 4 per island)")
    mutation_rate: Probability = _setting(
        "MUTATION_RATE", 0.1, "base per-gene probability of polynomial mutation")
    crossover_rate: Probability = _setting(
        "CROSSOVER_RATE", 0.8, "probability that a pair of parents is recombined")
    elite_size: EliteSize = _setting(
        "ELITE_SIZE", 5, "best individuals copied unchanged into the next generation")
    max_generations: Generations = _setting(
        "MAX_GENERATIONS", 100, "generations after the initial population")
    fitness_threshold: FitnessThreshold = _setting(
        "FITNESS_THRESHOLD", 0.8, "stop once the best fitness reaches it; `none` disables")
    ray_address: str | None = _setting(
        "STRATLAB_RAY_ADDRESS", None, "evaluate evolutions on this Ray cluster (forces the "
        "`ray` backend)", accepts="a Ray address (`auto` or `host:port`)")


class NeuralSettings(Section):
    title: ClassVar[str] = "defaults of a training run (flags and the page override them)"

    batch_size: BatchSize = _setting("BATCH_SIZE", 32, "samples per optimiser micro-batch")
    learning_rate: LearningRate = _setting("LEARNING_RATE", 0.001, "AdamW learning rate")
    epochs: Epochs = _setting("EPOCHS", 50, "most epochs (early stopping usually ends sooner)")
    sequence_length: SequenceLength = _setting("SEQUENCE_LENGTH", 60, "bars per input window")


class RetrainSettings(Section):
    title: ClassVar[str] = ("the auto-retrain policy (values saved on the Auto-Retrain page "
                            "override these)")

    accuracy_threshold: NonNegative = _setting(
        "RETRAIN_THRESHOLD", 0.05, "accuracy drop (absolute, 0–1) from the deployment "
        "snapshot that triggers a retrain")
    return_threshold_pct: NonNegative = _setting(
        "RETRAIN_RETURN_THRESHOLD", 2.0, "drop of the strategy return on the window, in "
        "percentage points")
    interval_hours: Positive = _setting(
        "RETRAIN_INTERVAL_HOURS", 24.0, "retrain at least this often")
    performance_window_days: Positive = _setting(
        "PERFORMANCE_WINDOW_DAYS", 7.0, "the newest days monitored, and held out from a retrain")
    min_data_points: AtLeastOne = _setting(
        "MIN_DATA_POINTS", 1000, "fewest training bars a retrain may use")
    min_window_bars: AtLeastOne = _setting(
        "RETRAIN_MIN_WINDOW_BARS", 100, "the window is extended to at least this many bars")
    monitor_interval_minutes: AtLeastOne = _setting(
        "RETRAIN_MONITOR_MINUTES", 60, "how often the background monitoring job runs")
    auto_retrain: Flag = _setting("RETRAIN_AUTO", True, "false: the monitor only reports")


class LLMSettings(Section):
    title: ClassVar[str] = "the AI analyst"

    anthropic_api_key: SecretStr | None = _setting(
        "ANTHROPIC_API_KEY", None, "use Claude; without it the offline analyst answers "
        "(labelled offline). Never shown, logged or stored", accepts="an Anthropic API key")
    prompts_path: FolderPath = _setting(
        "STRATLAB_PROMPTS", PROJECT_ROOT / "prompts" / "prompts.yaml",
        "the prompts, models and cost limits file", "`prompts/prompts.yaml`")

    @property
    def has_api_key(self) -> bool:
        return bool(self.anthropic_api_key and self.anthropic_api_key.get_secret_value())

    def api_key(self) -> str | None:
        """The key itself, for the client only (``repr`` of the section shows ``****``)."""
        return self.anthropic_api_key.get_secret_value() if self.has_api_key else None


class RuntimeSettings(Section):
    title: ClassVar[str] = "the process"

    debug: Flag = _setting("STRATLAB_DEBUG", False, "true: the command line shows the "
                           "traceback of an internal error")
    max_sweep_combinations: AtLeastOne = _setting(
        "MAX_SWEEP_COMBINATIONS", 100_000, "the most parameter combinations one sweep may "
        "run; a larger grid is refused before it starts")


SECTIONS: dict[str, type[Section]] = {
    "storage": StorageSettings, "evolution": EvolutionSettings, "neural": NeuralSettings,
    "retrain": RetrainSettings, "llm": LLMSettings, "runtime": RuntimeSettings}


def env_name(section: type[Section], field: str) -> str:
    """The environment variable of ``section.field``."""
    return section.model_fields[field].json_schema_extra["env"]  # type: ignore[index]


ENV_NAMES: tuple[str, ...] = tuple(env_name(cls, f) for cls in SECTIONS.values()
                                   for f in cls.model_fields)


def rule(section: type[Section], field: str) -> str:
    """The field's rule in words, e.g. ``a whole number from 1 to 65536``."""
    info = section.model_fields[field]
    accepts = info.json_schema_extra.get("accepts")  # type: ignore[union-attr]
    return str(accepts) if accepts else describe(list(info.metadata))



def _explain(section: type[Section], err: dict[str, Any], values: dict[str, Any]) -> str:
    loc = str(err["loc"][0]) if err.get("loc") else ""
    by_env = {env_name(section, f): f for f in section.model_fields}
    field = by_env.get(loc, loc)
    if field not in section.model_fields:
        return str(err.get("msg"))
    env = env_name(section, field)
    raw = values.get(field, values.get(env, os.environ.get(env, err.get("input"))))
    return problem(section, field, raw, env)


def problem(section: type[Section], field: str, raw: Any, label: str) -> str:
    """``LABEL=raw is not valid: must be <rule>; set LABEL to <rule> (default …)``; a label
    that is the variable's name adds ``or unset it``."""
    shown = raw if isinstance(raw, str) and raw and raw.strip() == raw and " " not in raw \
        else repr(raw)
    words = rule(section, field)
    hint = (" (written without a decimal point)" if words.startswith("a whole")
            and (isinstance(raw, float) or isinstance(raw, str) and re.search(r"[.eE]", raw))
            else "")
    default = section.model_fields[field].json_schema_extra["shown"]  # type: ignore[index]
    unset = " or unset it" if label == env_name(section, field) else ""
    return (f"{label}={shown} is not valid: must be {words}{hint}; set {label} to {words} "
            f"(default {default}){unset}")


def check_value(section: type[Section], field: str, value: Any, label: str | None = None
                ) -> Any:
    """``value`` (a flag, page or saved value) checked by the type of ``section.field``:
    the same rule as the environment variable. Raises :class:`ConfigError` naming ``label``
    (default: the field's name)."""
    info = section.model_fields[field]
    adapter = _adapters.get((section, field))
    if adapter is None:
        adapter = _adapters[(section, field)] = TypeAdapter(
            Annotated[(info.annotation, *info.metadata)])
    try:
        return adapter.validate_python(value)
    except ValidationError:
        raise ConfigError(problem(section, field, value, label or field)) from None


_adapters: dict[tuple[type[Section], str], TypeAdapter] = {}
