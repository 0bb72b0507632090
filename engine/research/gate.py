"""Promotion gate: a genome from a run that looks overfit is promoted only on purpose.

:func:`promotion_check` reads the run's statistics (:func:`~engine.research.stats.
run_statistics`, cached) and asks for an explicit confirmation when **PBO > 0.5** (the
in-sample best usually lands in the lower half out of sample) or **SPA p > 0.05** (the top
genomes do not beat buy-and-hold beyond luck). A figure that could not be computed asks for
nothing (its note says why). :func:`require_confirmation` raises
:class:`PromotionNeedsConfirmation` unless ``force``; the command line's ``--force`` and the
Evolution page's "Promote anyway" box pass it. The figures are stored with the promoted
strategy (:meth:`PromotionCheck.figures`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from engine.errors import StratLabError
from engine.research.stats import run_statistics

__all__ = ["PBO_LIMIT", "SPA_LIMIT", "PromotionCheck", "PromotionNeedsConfirmation",
           "promotion_check", "require_confirmation"]

PBO_LIMIT = 0.5
SPA_LIMIT = 0.05


class PromotionNeedsConfirmation(StratLabError):
    """Promoting from a run whose PBO or SPA p-value is past its limit, without ``force``."""


@dataclass
class PromotionCheck:
    """The run's figures and whether promoting from it needs a confirmation."""

    run_id: int
    pbo: float | None
    spa_pvalue: float | None
    min_backtest_years: float | None
    data_years: float | None
    needs_confirmation: bool
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def figures(self, *, forced: bool) -> dict[str, Any]:
        """What the promoted strategy keeps."""
        return {"pbo": self.pbo, "spa_pvalue": self.spa_pvalue,
                "min_backtest_years": self.min_backtest_years, "data_years": self.data_years,
                "needs_confirmation": self.needs_confirmation, "forced": forced,
                "reasons": list(self.reasons)}


def promotion_check(run_id: int) -> PromotionCheck:
    """Whether promoting any genome of ``run_id`` needs a confirmation (module docstring)."""
    st = run_statistics(run_id)
    reasons = []
    if st.pbo is not None and st.pbo > PBO_LIMIT:
        reasons.append(f"PBO {st.pbo:.2f} > {PBO_LIMIT}")
    if st.spa_pvalue is not None and st.spa_pvalue > SPA_LIMIT:
        reasons.append(f"SPA p {st.spa_pvalue:.3f} > {SPA_LIMIT}")
    return PromotionCheck(run_id=run_id, pbo=st.pbo, spa_pvalue=st.spa_pvalue,
                          min_backtest_years=st.min_backtest_years, data_years=st.data_years,
                          needs_confirmation=bool(reasons), reasons=reasons,
                          warnings=list(st.warnings))


def require_confirmation(check: PromotionCheck, *, force: bool) -> None:
    """Raise :class:`PromotionNeedsConfirmation` when the check asks for one and not forced."""
    if check.needs_confirmation and not force:
        raise PromotionNeedsConfirmation(
            f"run {check.run_id} looks overfit ({'; '.join(check.reasons)}); promote anyway "
            "with --force (on the Evolution page: tick 'Promote anyway')")
