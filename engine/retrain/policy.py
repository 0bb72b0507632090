"""The auto-retrain policy: seed defaults, environment variables, and what the page saved.

Precedence: a value saved from the Auto-Retrain page (the ``retrain_settings`` table) over
the environment variable of :data:`POLICY_ENV` over the seed default. The window defaults
are :mod:`engine.neural.window`'s, the ones the registry uses when no policy is installed.
:mod:`engine.retrain` re-exports these names.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any

from sqlmodel import select

from engine.config import RetrainSettings, check_value, get_settings
from engine.db import session_scope
from engine.errors import ParameterError
from engine.neural.window import DEFAULT_MIN_WINDOW_BARS, DEFAULT_WINDOW_DAYS
from engine.retrain.tables import RetrainSetting
from engine.tables import utcnow

# ------------------------------------------------------------------------------------ policy

#: policy field → environment variable
POLICY_ENV = {
    "accuracy_threshold": "RETRAIN_THRESHOLD",
    "return_threshold_pct": "RETRAIN_RETURN_THRESHOLD",
    "interval_hours": "RETRAIN_INTERVAL_HOURS",
    "performance_window_days": "PERFORMANCE_WINDOW_DAYS",
    "min_data_points": "MIN_DATA_POINTS",
    "min_window_bars": "RETRAIN_MIN_WINDOW_BARS",
    "monitor_interval_minutes": "RETRAIN_MONITOR_MINUTES",
    "auto_retrain": "RETRAIN_AUTO",
}


@dataclass(frozen=True)
class PolicyRule:
    """The range of one policy value (``lo``/``hi``, each open or closed), whether it is a
    whole number, and the fix a refusal names. A value outside it would
    never trigger (an accuracy drop above 1), overflow the window arithmetic (a window of
    1e9 days), or make no sense (a negative threshold)."""

    lo: float
    hi: float
    fix: str
    lo_open: bool = False
    hi_open: bool = False
    whole: bool = False

    def describe(self) -> str:
        """The range in words, e.g. ``a finite number at least 0 and below 1``."""
        def num(v: float) -> str:
            return str(int(v)) if float(v).is_integer() else f"{v:g}"

        kind = "a whole number" if self.whole else "a finite number"
        left = "above" if self.lo_open else "at least"
        right = "below" if self.hi_open else "at most"
        return f"{kind} {left} {num(self.lo)} and {right} {num(self.hi)}"

    def problem(self, value: Any) -> str:
        """Why ``value`` is refused ('' when it is fine)."""
        wrong = f"must be {self.describe()}, got {value!r}"
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return wrong
        if self.whole and not isinstance(value, int):
            return wrong
        if not math.isfinite(value):
            return wrong + " (nan and inf are refused)"
        if value < self.lo or (self.lo_open and value == self.lo):
            return wrong
        if value > self.hi or (self.hi_open and value == self.hi):
            return wrong
        return ""


#: the range of every numeric policy field, checked whenever a policy is built (defaults,
#: environment, saved values, the page, ``retrain policy --set``)
POLICY_RULES: dict[str, PolicyRule] = {
    "accuracy_threshold": PolicyRule(
        0.0, 1.0, hi_open=True,
        fix="it is an absolute accuracy drop (accuracy is 0–1), so 1 or more can never "
            "trigger; use e.g. 0.05 for five points"),
    "return_threshold_pct": PolicyRule(
        0.0, 100.0,
        fix="it is a drop of the window's return in percentage points; use e.g. 2.0"),
    "interval_hours": PolicyRule(
        0.0, 87_600.0, lo_open=True,
        fix="use e.g. 24 (at most 87600, ten years, to retrain on drops only)"),
    "performance_window_days": PolicyRule(
        0.0, 3650.0, lo_open=True,
        fix="the monitored window is the newest days of the dataset; use e.g. 7 "
            "(at most 3650)"),
    "min_data_points": PolicyRule(
        1, 10_000_000, whole=True, fix="use e.g. 1000 training bars"),
    "min_window_bars": PolicyRule(
        1, 1_000_000, whole=True, fix="use e.g. 100 bars"),
    "monitor_interval_minutes": PolicyRule(
        1, 525_600, whole=True, fix="use e.g. 60 (at most 525600, a year)"),
}


@dataclass(frozen=True)
class RetrainPolicy:
    """When to retrain. Thresholds are absolute drops from the deployment snapshot."""

    accuracy_threshold: float = 0.05  # accuracy drop (0…1) that triggers a retrain
    return_threshold_pct: float = 2.0  # return drop in percentage points
    interval_hours: float = 24.0  # retrain at least this often
    performance_window_days: float = DEFAULT_WINDOW_DAYS  # newest window monitored, held out
    min_data_points: int = 1000  # fewest training bars a retrain may use
    min_window_bars: int = DEFAULT_MIN_WINDOW_BARS  # the window has at least this many bars
    monitor_interval_minutes: int = 60  # how often the monitoring job runs
    auto_retrain: bool = True  # False: the monitor only reports

    def __post_init__(self) -> None:
        for name, rule in POLICY_RULES.items():
            problem = rule.problem(getattr(self, name))
            if problem:
                raise ParameterError(
                    f"retrain policy: {name} ({POLICY_ENV[name]}) {problem}; {rule.fix}")
        if not isinstance(self.auto_retrain, bool):
            raise ParameterError(f"retrain policy: auto_retrain (RETRAIN_AUTO) must be true "
                                 f"or false, got {self.auto_retrain!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _coerce(name: str, value: Any, source: str) -> Any:
    """``value`` checked by the type of ``engine.config.RetrainSettings.<name>``: saved and
    page values pass the same rule as the environment variable (named ``source``)."""
    return check_value(RetrainSettings, name, value, source)


def default_policy() -> RetrainPolicy:
    """The seed's defaults with the environment variables applied (the ``retrain`` section
    of :func:`engine.config.get_settings`)."""
    return RetrainPolicy(**get_settings().retrain.model_dump())


def get_policy() -> RetrainPolicy:
    """The policy in force: defaults ← environment ← values saved on the page."""
    base = default_policy()
    with session_scope() as s:
        saved = {r.key: r.value for r in s.exec(select(RetrainSetting)).all()}
    values = {k: _coerce(k, v, k) for k, v in saved.items() if k in POLICY_ENV}
    return replace(base, **values) if values else base


def save_policy(policy: RetrainPolicy | dict[str, Any]) -> RetrainPolicy:
    """Validate and store every field of ``policy`` (a policy or a dict of changed fields)."""
    if isinstance(policy, dict):
        unknown = set(policy) - set(POLICY_ENV)
        if unknown:
            raise ParameterError(f"unknown retrain policy fields {sorted(unknown)}; known: "
                                 f"{', '.join(POLICY_ENV)}")
        policy = replace(get_policy(), **{k: _coerce(k, v, k) for k, v in policy.items()})
    with session_scope() as s:
        for name, value in policy.to_dict().items():
            row = s.get(RetrainSetting, name) or RetrainSetting(key=name)
            row.value, row.updated_at = value, utcnow()
            s.add(row)
    return policy


def reset_policy() -> RetrainPolicy:
    """Forget the saved values (back to environment and defaults)."""
    with session_scope() as s:
        for row in s.exec(select(RetrainSetting)).all():
            s.delete(row)
    return get_policy()


