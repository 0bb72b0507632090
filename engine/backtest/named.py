"""Named strategies: a promoted evolution individual runs as ``genome`` with its genes.

``resolve_named("goog-evolved-1")`` → ``("genome", {...15 genes...})`` when such a promoted
strategy exists, else ``None`` (built-in strategy names are never shadowed).
"""

from __future__ import annotations

from typing import Any


def resolve_named(name: str) -> tuple[str, dict[str, Any]] | None:
    """The (strategy, params) a promoted strategy ``name`` stands for, or ``None``."""
    from engine.backtest.strategies import STRATEGIES

    if not name or str(name).lower() in STRATEGIES:
        return None
    from engine.evolution.promote import find_promoted

    info = find_promoted(str(name))
    if info is None:
        return None
    return info.strategy, dict(info.params)
