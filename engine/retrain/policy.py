"""The auto-retrain policy: seed defaults, environment variables, and what the page saved.

Precedence: a value saved from the Auto-Retrain page (the ``retrain_settings`` table) over
the environment variable of :data:`POLICY_ENV` over the seed default. The window defaults
are :mod:`engine.neural.window`'s, the ones the registry uses when no policy is installed.
:mod:`engine.retrain` re-exports these names.
"""

from __future__ import annotations

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
        checks = [
            (self.accuracy_threshold >= 0, "accuracy_threshold must be >= 0 (e.g. 0.05)"),
            (self.return_threshold_pct >= 0, "return_threshold_pct must be >= 0 (e.g. 2.0)"),
            (self.interval_hours > 0, "interval_hours must be > 0 (e.g. 24)"),
            (self.performance_window_days > 0, "performance_window_days must be > 0 (e.g. 7)"),
            (self.min_data_points >= 1, "min_data_points must be >= 1 (e.g. 1000)"),
            (self.min_window_bars >= 1, "min_window_bars must be >= 1 (e.g. 100)"),
            (self.monitor_interval_minutes >= 1, "monitor_interval_minutes must be >= 1"),
        ]
        for ok, msg in checks:
            if not ok:
                raise ParameterError(f"retrain policy: {msg}")

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


