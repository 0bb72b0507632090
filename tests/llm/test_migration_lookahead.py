"""Migration 0008_llm_lookahead: a lab at 0007 keeps its decisions and gains the look-ahead
columns with their defaults; downgrading removes them; upgrading twice changes nothing."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from engine import db, migrations

NEW = {"training_cutoff", "in_training_window", "blind", "arm", "replay_id", "raw_move_pct"}


def _columns(eng) -> set[str]:
    with eng.connect() as conn:
        return {c["name"] for c in sa.inspect(conn).get_columns("ai_decisions")}


def test_a_lab_at_0007_gains_the_columns_and_keeps_its_rows(tmp_path):
    eng = db.make_engine(f"sqlite:///{tmp_path / 'lab.db'}")
    with eng.begin() as conn:
        command.upgrade(migrations.alembic_config(conn), "0007_walkforward")
    assert not NEW & _columns(eng)
    with eng.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO ai_decisions (id, timestamp, created_at, ticker, as_of, as_of_price, "
            "decision, confidence, models_used, total_cost, provider, prompt_name, "
            "prompt_version, prompt_versions, regime, timeframe, horizon_bars, position_size, "
            "consensus, risk_approved, risk_reasons, actionable, source, exit_reason, payload)"
            " VALUES ('d1', '2024-01-02', '2024-01-02', 'GOOG', '2024-01-02', 100.0, 'BUY', "
            "70, '[]', 0.01, 'anthropic', 'master_analyst', '1.1', '{}', 'bull', 'swing', 5, "
            "0.05, 0, 1, '[]', 1, 'analyze', '', '{}')"))
    with eng.begin() as conn:
        command.upgrade(migrations.alembic_config(conn), "head")
        command.upgrade(migrations.alembic_config(conn), "head")  # again: nothing to do
    assert NEW <= _columns(eng)
    with eng.connect() as conn:
        row = conn.execute(sa.text(
            "SELECT ticker, blind, arm, replay_id, training_cutoff, in_training_window, "
            "raw_move_pct FROM ai_decisions")).one()
    assert tuple(row) == ("GOOG", 0, "", "", None, None, None)
    with eng.begin() as conn:
        command.downgrade(migrations.alembic_config(conn), "0007_walkforward")
    assert not NEW & _columns(eng)
    with eng.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM ai_decisions")).scalar() == 1
    eng.dispose()


def test_the_models_declare_the_same_columns():
    from engine.llm.tables import AIDecision

    assert NEW <= set(AIDecision.__table__.columns.keys())
