"""Data-snooping statistics of evolution runs: is the best genome better than luck?

Public names::

    pbo(returns, n_blocks=16, *, metric="sharpe") -> PBOResult      CSCV (pbo.py)
    spa_test(returns, benchmark, ...) -> SPAResult                   Hansen's SPA (spa.py)
    stepm_test(returns, benchmark, ...) -> StepMResult               Romano–Wolf StepM
    min_backtest_years(n_trials, target_sharpe=1.0) -> float         MinBTL (minbtl.py)
    min_backtest_check(n_trials, data_years) -> MinBTLCheck
    run_statistics(run_id, ...) -> RunStatistics                     all three, cached (stats.py)
    individual_spa(run_id, uid) -> IndividualSPA
    promotion_check(run_id) -> PromotionCheck                        the promotion gate (gate.py)
    PromotionNeedsConfirmation                                       raised without force

See docs/research.md for the formulas, defaults and what each figure means.
"""

from engine.research.gate import (
    PromotionCheck,
    PromotionNeedsConfirmation,
    promotion_check,
    require_confirmation,
)
from engine.research.minbtl import MinBTLCheck, min_backtest_check, min_backtest_years
from engine.research.pbo import PBOResult, pbo
from engine.research.spa import SPAResult, StepMResult, spa_test, stepm_test
from engine.research.stats import IndividualSPA, RunStatistics, individual_spa, run_statistics

__all__ = [
    "IndividualSPA",
    "MinBTLCheck",
    "PBOResult",
    "PromotionCheck",
    "PromotionNeedsConfirmation",
    "RunStatistics",
    "SPAResult",
    "StepMResult",
    "individual_spa",
    "min_backtest_check",
    "min_backtest_years",
    "pbo",
    "promotion_check",
    "require_confirmation",
    "run_statistics",
    "spa_test",
    "stepm_test",
]
