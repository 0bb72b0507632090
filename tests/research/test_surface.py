"""engine.research's public names are pinned (the house pattern)."""

from __future__ import annotations


def test_public_surface_is_pinned():
    import engine.research as research

    assert sorted(research.__all__) == sorted([
        "IndividualSPA", "MinBTLCheck", "PBOResult", "PromotionCheck",
        "PromotionNeedsConfirmation", "RunStatistics", "SPAResult", "StepMResult",
        "individual_spa", "min_backtest_check", "min_backtest_years", "pbo",
        "promotion_check", "require_confirmation", "run_statistics", "spa_test",
        "stepm_test"])
    assert all(hasattr(research, name) for name in research.__all__)


def test_the_gate_error_is_a_user_facing_error():
    from engine.errors import StratLabError
    from engine.research import PromotionNeedsConfirmation

    assert issubclass(PromotionNeedsConfirmation, StratLabError)
