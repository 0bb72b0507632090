"""The newest window of a deployed version's dataset, as the retrain policy defines it.

The window itself (bars, history before it, evaluation) is :mod:`engine.neural.window`'s,
shared with the registry; this module only applies the policy's ``performance_window_days``
and ``min_window_bars`` and installs them as the registry's deployment-snapshot window, so a
deployment is evaluated on exactly the window the monitor later watches.
"""

from __future__ import annotations

from typing import Any

from engine import registry
from engine.neural.window import Window, newest_window
from engine.retrain.policy import RetrainPolicy, get_policy


def policy_window(policy: RetrainPolicy | None = None) -> tuple[float, int]:
    """``(performance_window_days, min_window_bars)`` of the policy in force."""
    policy = policy or get_policy()
    return policy.performance_window_days, policy.min_window_bars


def policy_newest_window(cfg: dict[str, Any], policy: RetrainPolicy) -> Window:
    """The newest ``performance_window_days`` of the version's dataset (at least
    ``min_window_bars`` bars), with the history the first prediction needs."""
    days, min_bars = policy_window(policy)
    return newest_window(cfg, window_days=days, min_bars=min_bars)


def window_snapshot(version_id: str, policy: RetrainPolicy | None = None) -> dict[str, Any]:
    """The version evaluated on the newest window (what a deployment is monitored against)."""
    days, min_bars = policy_window(policy)
    return registry.window_snapshot(version_id, window_days=days, min_bars=min_bars)


registry.set_snapshot_window(policy_window)
