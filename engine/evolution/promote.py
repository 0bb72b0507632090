"""Promotion: an individual becomes a named strategy the backtester can run again.

A promoted strategy is the ``genome`` strategy with the individual's 15 genes, stored in
``promoted_strategies`` under a unique name. ``engine.backtest.named.resolve_named(name)``
maps the name back to ``("genome", params)``, so ``python -m engine backtest --strategy
NAME --end <in_sample_end>`` reproduces the in-sample metrics stored here exactly.

Promotion is gated (:mod:`engine.research.gate`): from a run with PBO > 0.5 or SPA p > 0.05
it needs ``force=True`` (``--force``), and the strategy keeps the run's figures
(``statistics``: PBO, SPA p-value, minimum backtest length, whether it was forced).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from engine.db import session_scope
from engine.errors import ParameterError, StratLabError
from engine.evolution import store
from engine.evolution.tables import PromotedStrategy

NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]{0,63}$")


@dataclass
class PromotedInfo:
    """A promoted strategy (``strategy`` is always ``genome``)."""

    name: str
    strategy: str
    params: dict[str, Any]
    source_run_id: int | None
    source_uid: int | None
    symbols: list[str]
    settings: dict[str, Any]
    split: dict[str, Any]
    fitness: float | None
    in_sample: dict[str, Any]
    out_of_sample: dict[str, Any] | None
    created_at: datetime
    statistics: dict[str, Any] | None = None  # the run's PBO / SPA / MinBTL at promotion

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["created_at"] = self.created_at.isoformat()
        return d


#: The public name of the promoted-strategy record.
PromotedStrategyInfo = PromotedInfo


def _info(r: PromotedStrategy) -> PromotedInfo:
    return PromotedInfo(
        name=r.name, strategy=r.strategy, params=dict(r.params),
        source_run_id=r.source_run_id, source_uid=r.source_uid, symbols=list(r.symbols or []),
        settings=dict(r.settings or {}), split=dict(r.split or {}), fitness=r.fitness,
        in_sample=dict(r.in_sample or {}), out_of_sample=r.out_of_sample,
        created_at=r.created_at,
        statistics=dict(r.statistics) if r.statistics is not None else None,
    )


def promote(run_id: int, uid: int, name: str, *, force: bool = False) -> PromotedInfo:
    """Store individual ``uid`` of run ``run_id`` as the strategy ``name`` (unique).

    Raises :class:`~engine.research.gate.PromotionNeedsConfirmation` when the run's PBO or
    SPA p-value is past its limit and ``force`` is false (module docstring).
    """
    from engine.backtest import STRATEGIES
    from engine.research.gate import promotion_check, require_confirmation

    name = (name or "").strip()
    if not NAME_RE.match(name):
        raise ParameterError(
            f"strategy name {name!r} must start with a letter and use up to 64 letters, "
            "digits, '_', '.' or '-'; e.g. goog-evolved-1"
        )
    if name.lower() in STRATEGIES:
        raise ParameterError(f"{name!r} is a built-in strategy; choose another name")
    row = store.individual_row(run_id, uid)
    run = store.get_run_row(run_id)
    if _find(name) is not None:
        raise ParameterError(f"a promoted strategy named {name!r} exists; choose another name")
    check = promotion_check(run_id)
    require_confirmation(check, force=force)
    cfg = run.config
    rec = PromotedStrategy(
        name=name, strategy="genome", params=dict(row.params), source_run_id=run_id,
        source_uid=uid, symbols=list(cfg.get("symbols") or []),
        settings={k: cfg.get(k) for k in ("cash", "commission", "allow_short")},
        split=dict(run.split or {}), fitness=row.fitness, in_sample=dict(row.in_sample),
        out_of_sample=row.out_of_sample,
        statistics=store.clean(check.figures(forced=force and check.needs_confirmation)),
    )
    if _find(name) is not None:
        raise ParameterError(f"a promoted strategy named {name!r} exists; choose another name")
    try:
        with session_scope() as s:
            s.add(rec)
    except IntegrityError:
        raise ParameterError(f"a promoted strategy named {name!r} exists; choose another name"
                             ) from None
    return _info(rec)


def _find(name: str) -> PromotedStrategy | None:
    with session_scope() as s:
        return s.exec(select(PromotedStrategy)
                      .where(func.lower(PromotedStrategy.name) == name.strip().lower())).first()


def list_promoted() -> list[PromotedInfo]:
    """Every promoted strategy, newest first."""
    with session_scope() as s:
        rows = s.exec(select(PromotedStrategy)
                      .order_by(col(PromotedStrategy.created_at).desc(),
                                col(PromotedStrategy.id).desc())).all()
        return [_info(r) for r in rows]


def get_promoted(name: str) -> PromotedInfo:
    """A promoted strategy by name (case-insensitive)."""
    row = _find(name)
    if row is None:
        raise StratLabError(
            f"no promoted strategy {name!r}; promote one with "
            "`python -m engine evolution promote RUN UID --name NAME`"
        )
    return _info(row)


def find_promoted(name: str) -> PromotedInfo | None:
    """Like :func:`get_promoted` but ``None`` when there is none."""
    row = _find(name)
    return _info(row) if row is not None else None
