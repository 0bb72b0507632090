"""``prompts/prompts.yaml``: load and validate the LLM configuration in two layers.

Layer one is a described pydantic schema (types, ranges, defaults, no unknown keys); layer
two are small named consistency checks (every prompt's ``model_preference`` names a model,
every template uses only known placeholders, the three tiers exist, …). Any problem raises
one :class:`LLMConfigError` whose message names the key and the fix::

    >>> cfg = load_config()
    >>> cfg.prompts["master_analyst"].version
    '1.1'
    >>> cfg.model_for_tier("screening").id
    'claude-haiku-5-5'

The file is re-read when it changes on disk (its modification time is part of the cache).
"""

from __future__ import annotations

import string
import threading
from datetime import date
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from engine.config import PROJECT_ROOT, get_settings
from engine.errors import StratLabError

DEFAULT_PATH = PROJECT_ROOT / "prompts" / "prompts.yaml"
#: ``STRATLAB_PROMPTS`` may point at another prompts file (tests, experiments).
ENV_VAR = "STRATLAB_PROMPTS"

Tier = Literal["screening", "analysis", "deep"]
OutputKind = Literal["decision", "regime", "risk", "critique"]
#: Placeholders a template may use (filled by engine.llm.analyst).
PLACEHOLDERS = {"symbol", "as_of", "context", "regime", "proposal", "max_penalty",
                "max_position_size"}


class LLMConfigError(StratLabError):
    """prompts.yaml is missing, malformed or inconsistent."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelSpec(_Strict):
    """One Claude model: id, tier, prices (USD per million tokens) and pacing."""

    id: str = Field(min_length=3)
    tier: Tier
    input_per_mtok: float = Field(ge=0)
    output_per_mtok: float = Field(ge=0)
    cache_write_per_mtok: float = Field(ge=0)
    cache_read_per_mtok: float = Field(ge=0)
    min_delay_seconds: float = Field(default=0.0, ge=0)
    accepts_temperature: bool = False
    #: the last day the model's training data may cover: a decision as of this day or
    #: earlier may have been answered from memory of what followed (look-ahead)
    training_cutoff: date | None = None


class CostManagement(_Strict):
    daily_limit_usd: float = Field(gt=0)
    monthly_limit_usd: float = Field(gt=0)
    cache_ttl_seconds: float = Field(default=300, ge=0)
    batch_discount: float = Field(default=0.5, gt=0, le=1)
    chars_per_token_estimate: float = Field(default=3.0, gt=0)
    #: input tokens the API may add to a request (structured-output instructions), on top of
    #: the request's bytes, in a reservation (engine.llm.costs.input_token_bound)
    reservation_overhead_tokens: int = Field(default=1024, ge=0, le=100_000)


class ClientSettings(_Strict):
    timeout_seconds: float = Field(default=60.0, gt=0)
    connect_timeout_seconds: float = Field(default=10.0, gt=0)
    max_retries: int = Field(default=3, ge=0, le=10)
    circuit_failure_threshold: int = Field(default=3, ge=1)
    circuit_reset_seconds: float = Field(default=300.0, ge=0)
    batch_poll_seconds: float = Field(default=30.0, ge=0)
    batch_timeout_seconds: float = Field(default=86400.0, gt=0)
    #: the longest retry-after (429/529) the SDK may sleep; a longer one fails the call
    max_retry_wait_seconds: float = Field(default=60.0, ge=0, le=3600)
    #: the whole call's wall time (every attempt and wait); past it, the call fails
    max_call_seconds: float = Field(default=300.0, gt=0, le=86400)
    #: consecutive failed polls of a batch before it is cancelled and recorded failed
    batch_poll_retries: int = Field(default=5, ge=0, le=100)


class CacheBuckets(_Strict):
    price_rel_step: float = Field(default=0.005, gt=0, lt=1)
    pct_step: float = Field(default=0.5, gt=0)
    oscillator_step: float = Field(default=5.0, gt=0)
    ratio_step: float = Field(default=0.1, gt=0)


class Member(_Strict):
    prompt: str
    model: str


class ConsensusSettings(_Strict):
    consensus_min_models: int = Field(default=3, ge=1)
    min_confidence: float = Field(default=60, ge=0, le=100)
    members: list[Member]
    contrarian: Member
    contrarian_max_penalty: float = Field(default=30, ge=0, le=100)


class EscalationSettings(_Strict):
    analysis_min_confidence: float = Field(default=55, ge=0, le=100)
    deep_min_confidence: float = Field(default=70, ge=0, le=100)
    deep_min_position_size: float = Field(default=0.05, ge=0, le=1)
    deep_on_disagreement: bool = True


class RiskSettings(_Strict):
    max_positions: int = Field(default=10, ge=1)
    max_position_size: float = Field(default=0.1, gt=0, le=1)
    daily_loss_limit_usd: float = Field(default=-1000.0, le=0)
    portfolio_usd: float = Field(default=100_000.0, gt=0)


class LevelSettings(_Strict):
    """How far a decision's levels may sit from the as-of price and still be plausible."""

    #: entry_price within this percentage of the as-of close
    entry_band_pct: float = Field(default=10.0, gt=0, le=100)
    #: stop_loss at most this many ATRs from the entry (percent below when ATR is unknown)
    max_stop_atr: float = Field(default=10.0, gt=0)
    max_target_atr: float = Field(default=20.0, gt=0)
    max_stop_pct: float = Field(default=25.0, gt=0, lt=100)
    max_target_pct: float = Field(default=50.0, gt=0)


class TrackingSettings(_Strict):
    horizon_bars: dict[str, int] = Field(
        default_factory=lambda: {"day_trade": 1, "swing": 5, "position": 20})
    hold_band_pct: float = Field(default=2.0, gt=0)

    @field_validator("horizon_bars")
    @classmethod
    def _positive(cls, v: dict[str, int]) -> dict[str, int]:
        for k, n in v.items():
            if n < 1:
                raise ValueError(f"horizon of {k!r} must be >= 1 bar")
        return v


class PromptSpec(_Strict):
    """One prompt type: version, preferred model key, output kind and template."""

    version: str = Field(min_length=1)
    model_preference: str
    output: OutputKind
    max_tokens: int = Field(ge=64, le=128_000)
    temperature: float = Field(ge=0, le=1)
    template: str = Field(min_length=10)

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, v: object) -> object:
        return str(v) if isinstance(v, (int, float)) else v


class LLMConfig(_Strict):
    """The whole validated file."""

    version: int = 1
    models: dict[str, ModelSpec]
    cost_management: CostManagement
    client: ClientSettings = ClientSettings()
    cache_buckets: CacheBuckets = CacheBuckets()
    consensus: ConsensusSettings
    escalation: EscalationSettings = EscalationSettings()
    risk: RiskSettings = RiskSettings()
    levels: LevelSettings = LevelSettings()
    tracking: TrackingSettings = TrackingSettings()
    system_prompt: str = Field(min_length=20)
    prompts: dict[str, PromptSpec]
    source: str = ""

    def model(self, key: str) -> ModelSpec:
        """The model under ``key`` (``haiku``, ``sonnet``, ``opus``)."""
        try:
            return self.models[key]
        except KeyError:
            raise LLMConfigError(f"unknown model {key!r}; prompts.yaml defines "
                                 f"{sorted(self.models)}") from None

    def cutoff_for(self, model_ids: list[str] | tuple[str, ...] | set[str]) -> date | None:
        """The latest training cutoff among ``model_ids`` (configured ids; the offline
        analyst and unknown ids have none): a decision using several models is inside the
        training window when any of them may have seen its future."""
        by_id = {m.id: m.training_cutoff for m in self.models.values()}
        found = [by_id[i] for i in model_ids if by_id.get(i) is not None]
        return max(found) if found else None

    def model_for_tier(self, tier: str) -> ModelSpec:
        return self.models[self.tier_key(tier)]

    def tier_key(self, tier: str) -> str:
        """The model key doing ``tier`` (screening / analysis / deep)."""
        for key, spec in self.models.items():
            if spec.tier == tier:
                return key
        raise LLMConfigError(f"no model has tier {tier!r} in prompts.yaml")

    def prompt(self, name: str) -> PromptSpec:
        try:
            return self.prompts[name]
        except KeyError:
            raise LLMConfigError(f"unknown prompt {name!r}; prompts.yaml defines "
                                 f"{sorted(self.prompts)}") from None

    def system_text(self) -> str:
        """The static system prompt with the configured maximum position size filled in."""
        return self.system_prompt.replace("{max_position_size}",
                                          f"{self.risk.max_position_size:g}")


REQUIRED_PROMPTS = ("master_analyst", "market_regime", "risk_assessment",
                    "momentum_catalyst", "contrarian", "exit_optimizer")


def _consistency(cfg: LLMConfig) -> None:
    """Layer two: named cross-field checks, each with the fix in its message."""
    where = cfg.source or "prompts.yaml"
    missing = [p for p in REQUIRED_PROMPTS if p not in cfg.prompts]
    if missing:
        raise LLMConfigError(f"{where}: prompts {missing} are missing; add them under "
                             "`prompts:` (the six seed prompt types are required)")
    tiers = {m.tier for m in cfg.models.values()}
    for tier in ("screening", "analysis", "deep"):
        if tier not in tiers:
            raise LLMConfigError(f"{where}: no model with tier {tier!r}; give one model under "
                                 "`models:` that tier")
    if len(tiers) != len(cfg.models):
        raise LLMConfigError(f"{where}: two models share a tier; each tier needs exactly one")
    for name, p in cfg.prompts.items():
        if p.model_preference not in cfg.models:
            raise LLMConfigError(
                f"{where}: prompts.{name}.model_preference is {p.model_preference!r}; use one "
                f"of the model keys {sorted(cfg.models)}")
        try:
            fields = {f for _, f, _, _ in string.Formatter().parse(p.template) if f}
        except ValueError as exc:  # "Single '{' encountered in format string", …
            raise LLMConfigError(
                f"{where}: prompts.{name}.template is not a valid template ({exc}); close "
                "every {placeholder} and write a literal brace as {{ or }}") from None
        unknown = fields - PLACEHOLDERS
        if unknown:
            raise LLMConfigError(
                f"{where}: prompts.{name}.template uses unknown placeholders {sorted(unknown)}; "
                f"allowed are {sorted(PLACEHOLDERS)} (write a literal brace as {{{{ or }}}})")
        if "context" not in fields:
            raise LLMConfigError(f"{where}: prompts.{name}.template must include {{context}}")
        try:  # a format spec or conversion that cannot apply ({symbol:>q}, {as_of!z})
            p.template.format(**{k: "x" for k in PLACEHOLDERS})
        except (ValueError, IndexError, KeyError, AttributeError) as exc:
            raise LLMConfigError(
                f"{where}: prompts.{name}.template cannot be filled ({exc}); write each "
                "placeholder plainly, e.g. {symbol}") from None
    c = cfg.consensus
    for m in [*c.members, c.contrarian]:
        if m.prompt not in cfg.prompts or m.model not in cfg.models:
            raise LLMConfigError(f"{where}: consensus member {m.prompt}@{m.model} names an "
                                 "unknown prompt or model")
    bad = [m.prompt for m in c.members if cfg.prompts[m.prompt].output != "decision"]
    if bad:
        raise LLMConfigError(f"{where}: consensus members must use decision prompts; {bad} "
                             "do not")
    if cfg.prompts[c.contrarian.prompt].output != "critique":
        raise LLMConfigError(f"{where}: consensus.contrarian must use a critique prompt")
    if len(c.members) < c.consensus_min_models:
        raise LLMConfigError(
            f"{where}: consensus has {len(c.members)} members but consensus_min_models is "
            f"{c.consensus_min_models}; add members or lower the minimum")
    cm = cfg.cost_management
    if cm.monthly_limit_usd < cm.daily_limit_usd:
        raise LLMConfigError(f"{where}: cost_management.monthly_limit_usd ({cm.monthly_limit_usd})"
                             f" is below daily_limit_usd ({cm.daily_limit_usd})")


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """One line: what is wrong and where (line and column, 1-based)."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    what = " ".join(str(getattr(exc, "problem", None) or exc).split())
    if mark is None:
        return what
    return f"{what} at line {mark.line + 1}, column {mark.column + 1}"


def _read(p: Path) -> str:
    """The text of a prompts file, or an LLMConfigError naming the problem and the fix."""
    fix = f"restore prompts/prompts.yaml or point {ENV_VAR} at a prompts YAML file"
    if p.is_dir():
        raise LLMConfigError(f"prompts file {p} is a directory; {fix}")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise LLMConfigError(f"prompts file {p} cannot be read ({exc.strerror or exc}); "
                             f"check its permissions, or {fix}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LLMConfigError(f"prompts file {p} is not UTF-8 text (byte {exc.start} is "
                             f"{data[exc.start:exc.start + 1]!r}: a binary file?); {fix}"
                             ) from None
    if "\x00" in text:
        raise LLMConfigError(f"prompts file {p} contains NUL bytes (a binary file?); {fix}")
    return text


def parse_config(text: str, source: str = "prompts.yaml") -> LLMConfig:
    """Validate YAML text; raise :class:`LLMConfigError` naming the first problems."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise LLMConfigError(f"{source} is not valid YAML: {_yaml_problem(exc)}; fix the "
                             "syntax there") from None
    if not isinstance(raw, dict):
        raise LLMConfigError(f"{source} must be a mapping with models, prompts, "
                             "cost_management, consensus and system_prompt")
    raw["source"] = source
    try:
        cfg = LLMConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}"
            for e in exc.errors()[:5])
        raise LLMConfigError(f"{source} is invalid — {problems}; fix these keys "
                             "(see docs/llm.md for the format)") from None
    _consistency(cfg)
    return cfg


_lock = threading.Lock()
_cache: dict[tuple[str, float], LLMConfig] = {}


def config_path() -> Path:
    """``STRATLAB_PROMPTS`` (the ``llm`` settings), else ``prompts/prompts.yaml``."""
    return get_settings().llm.prompts_path


def load_config(path: str | Path | None = None) -> LLMConfig:
    """The validated configuration (re-read when the file changes)."""
    p = Path(path) if path else config_path()
    try:
        mtime = p.stat().st_mtime
    except FileNotFoundError:
        raise LLMConfigError(f"prompts file not found: {p}; restore prompts/prompts.yaml "
                             f"or point {ENV_VAR} at one") from None
    except OSError as exc:
        raise LLMConfigError(f"prompts file {p} cannot be read ({exc.strerror or exc}); "
                             f"restore prompts/prompts.yaml or point {ENV_VAR} at one") from None
    key = (str(p), mtime)
    with _lock:
        cfg = _cache.get(key)
        if cfg is None:
            cfg = parse_config(_read(p), source=str(p))
            _cache.clear()
            _cache[key] = cfg
        return cfg


def prompt_text(path: str | Path | None = None) -> str:
    """The raw YAML (for the prompts viewer)."""
    return _read(Path(path) if path else config_path())


__all__ = ["LLMConfig", "LLMConfigError", "LevelSettings", "ModelSpec", "PromptSpec",
           "REQUIRED_PROMPTS",
           "config_path", "load_config", "parse_config", "prompt_text"]
