"""Evolution page (AppTest): the data-snooping figures in the run summary and the
inspector, and the promotion confirmation they ask for (engine.research)."""

from __future__ import annotations

from engine import evolution as ev
from engine.research import individual_spa, promotion_check, run_statistics
from tests.pages.conftest import assert_clean, open_page


def _run() -> int:
    cfg = ev.EvolutionConfig(symbols=["SYN-TREND"], population_size=8, generations=1, seed=7,
                             backend="inline", fitness_threshold=None, elite_size=1)
    return ev.run_evolution(cfg).run_id


def test_run_summary_inspector_and_promotion_confirmation(app):
    rid = _run()
    st = run_statistics(rid)
    at = open_page(app, "evolution")
    assert_clean(at)
    cards = {m.label: m.value for m in at.metric}
    # the run summary beside the best genome's deflated Sharpe, as the engine computed them
    assert cards["PBO"] == f"{st.pbo:,.2f}"
    assert cards["SPA p-value"] == f"{st.spa_pvalue:.3f}"
    assert cards["Min backtest (years)"] == f"{st.min_backtest_years:,.2f}"
    assert cards["Deflated Sharpe (best)"] == f"{st.deflated_sharpe:,.2f}"
    # the best's DSR is the inspector's (the same returns and trials)
    assert cards["Deflated Sharpe (best)"] == cards["Deflated Sharpe"]
    best = ev.get_run(rid).best_uid
    assert cards["SPA p (this genome)"] == f"{individual_spa(rid, best).consistent:.3f}"
    captions = "\n".join(c.value for c in at.caption)
    assert f"Run: PBO {st.pbo:,.2f}, SPA p {st.spa_pvalue:.3f}" in captions
    for w in st.warnings:
        assert any(w == x.value for x in at.warning), w

    # promotion: this run asks for a confirmation, so Promote waits for the box
    assert promotion_check(rid).needs_confirmation
    assert at.button(key="ev_promote_btn").disabled
    at.text_input(key="ev_promote_name").set_value("confirmed-one").run()
    at.checkbox(key=f"ev_promote_force_{rid}").check().run()
    assert not at.button(key="ev_promote_btn").disabled
    at.button(key="ev_promote_btn").click().run()
    assert_clean(at)
    kept = ev.get_promoted("confirmed-one").statistics
    assert kept["forced"] is True and kept["pbo"] == st.pbo
    assert kept["spa_pvalue"] == st.spa_pvalue
