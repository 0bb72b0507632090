"""Today's schema (release 669aefb): the 21 tables every lab made before migrations has.

Generated from that release's SQLModel metadata with Alembic's autogenerate (SQLModel's
``AutoString`` rendered as ``sa.String``), then arranged so a database made by that release
is adopted: only tables that do not exist yet are created. (Old labs often lack some: that
release created ``job_runs`` and the evolution tables only when their modules happened to be
imported before ``init_db``.) ``apscheduler_jobs`` belongs to APScheduler's job store and is
not managed here.

JSON payloads are ``sa.JSON`` (TEXT on SQLite, ``json`` on PostgreSQL) and timestamps naive
``sa.DateTime`` (``TIMESTAMP WITHOUT TIME ZONE`` on PostgreSQL): every table stores UTC.

Revision ID: 0001_initial
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_initial"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ai_decisions() -> None:
    op.create_table(
        "ai_decisions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("timestamp", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("ticker", sa.String(length=64), nullable=False),
        sa.Column("as_of", sa.DateTime(), nullable=False),
        sa.Column("as_of_price", sa.Float(), nullable=False),
        sa.Column("decision", sa.String(length=8), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("models_used", sa.JSON(), nullable=True),
        sa.Column("total_cost", sa.Float(), nullable=False),
        sa.Column("actual_outcome", sa.Float(), nullable=True),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("prompt_name", sa.String(length=64), nullable=False),
        sa.Column("prompt_version", sa.String(length=32), nullable=False),
        sa.Column("prompt_versions", sa.JSON(), nullable=True),
        sa.Column("regime", sa.String(length=32), nullable=False),
        sa.Column("timeframe", sa.String(length=16), nullable=False),
        sa.Column("horizon_bars", sa.Integer(), nullable=False),
        sa.Column("entry_price", sa.Float(), nullable=True),
        sa.Column("stop_loss", sa.Float(), nullable=True),
        sa.Column("take_profit", sa.Float(), nullable=True),
        sa.Column("position_size", sa.Float(), nullable=False),
        sa.Column("consensus", sa.Boolean(), nullable=False),
        sa.Column("agreement", sa.Float(), nullable=True),
        sa.Column("risk_approved", sa.Boolean(), nullable=False),
        sa.Column("risk_reasons", sa.JSON(), nullable=True),
        sa.Column("actionable", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("correct", sa.Boolean(), nullable=True),
        sa.Column("pnl_usd", sa.Float(), nullable=True),
        sa.Column("exit_time", sa.DateTime(), nullable=True),
        sa.Column("exit_reason", sa.String(length=16), nullable=False),
        sa.Column("outcome_filled_at", sa.DateTime(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_ai_decisions_as_of"), "ai_decisions", ["as_of"], unique=False)
    op.create_index(op.f("ix_ai_decisions_ticker"), "ai_decisions", ["ticker"], unique=False)
    op.create_index(op.f("ix_ai_decisions_timestamp"), "ai_decisions", ["timestamp"], unique=False)


def _ai_performance_metrics() -> None:
    op.create_table(
        "ai_performance_metrics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("total_decisions", sa.Integer(), nullable=False),
        sa.Column("scored_decisions", sa.Integer(), nullable=False),
        sa.Column("accuracy_rate", sa.Float(), nullable=True),
        sa.Column("win_rate", sa.Float(), nullable=True),
        sa.Column("total_pnl", sa.Float(), nullable=False),
        sa.Column("total_api_cost", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_ai_performance_metrics_date"), "ai_performance_metrics", ["date"], unique=True
    )


def _backtest_runs() -> None:
    op.create_table(
        "backtest_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("symbols", sa.String(), nullable=False),
        sa.Column("strategy", sa.String(length=64), nullable=False),
        sa.Column("params", sa.JSON(), nullable=True),
        sa.Column("settings", sa.JSON(), nullable=True),
        sa.Column("start", sa.DateTime(), nullable=True),
        sa.Column("end", sa.DateTime(), nullable=True),
        sa.Column("data_fingerprint", sa.String(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=True),
        sa.Column("trades", sa.JSON(), nullable=True),
        sa.Column("label", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_backtest_runs_created_at"), "backtest_runs", ["created_at"], unique=False
    )


def _datasets() -> None:
    op.create_table(
        "datasets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("symbol", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("path", sa.String(), nullable=False),
        sa.Column("timeframe", sa.String(length=16), nullable=False),
        sa.Column("n_rows", sa.Integer(), nullable=False),
        sa.Column("start", sa.DateTime(), nullable=True),
        sa.Column("end", sa.DateTime(), nullable=True),
        sa.Column("n_rejected", sa.Integer(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("description", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_datasets_symbol"), "datasets", ["symbol"], unique=True)


def _evolution_runs() -> None:
    op.create_table(
        "evolution_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("config", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_action", sa.String(length=16), nullable=True),
        sa.Column("generations_done", sa.Integer(), nullable=False),
        sa.Column("target_generations", sa.Integer(), nullable=True),
        sa.Column("evaluations", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("data_fingerprint", sa.String(), nullable=False),
        sa.Column("split", sa.JSON(), nullable=True),
        sa.Column("in_sample_end", sa.DateTime(), nullable=True),
        sa.Column("out_of_sample_start", sa.DateTime(), nullable=True),
        sa.Column("best_fitness", sa.Float(), nullable=True),
        sa.Column("mean_fitness", sa.Float(), nullable=True),
        sa.Column("best_uid", sa.Integer(), nullable=True),
        sa.Column("best", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("owner_pid", sa.Integer(), nullable=True),
        sa.Column("owner_host", sa.String(length=255), nullable=False),
        sa.Column("owner_started", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_evolution_runs_status"), "evolution_runs", ["status"], unique=False)


def _job_runs() -> None:
    op.create_table(
        "job_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.String(length=191), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_job_runs_job_id"), "job_runs", ["job_id"], unique=False)


def _llm_budget_lock() -> None:
    op.create_table(
        "llm_budget_lock",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def _llm_calls() -> None:
    op.create_table(
        "llm_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("model_key", sa.String(length=32), nullable=False),
        sa.Column("model_id", sa.String(length=64), nullable=False),
        sa.Column("prompt", sa.String(length=64), nullable=False),
        sa.Column("prompt_version", sa.String(length=16), nullable=False),
        sa.Column("symbol", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("batch", sa.Boolean(), nullable=False),
        sa.Column("reserved_usd", sa.Float(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.Column("saved_usd", sa.Float(), nullable=False),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("cache_creation_tokens", sa.Integer(), nullable=False),
        sa.Column("cache_read_tokens", sa.Integer(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("settled_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_llm_calls_created_at"), "llm_calls", ["created_at"], unique=False)
    op.create_index(op.f("ix_llm_calls_prompt"), "llm_calls", ["prompt"], unique=False)
    op.create_index(op.f("ix_llm_calls_status"), "llm_calls", ["status"], unique=False)


def _llm_response_cache() -> None:
    op.create_table(
        "llm_response_cache",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("prompt", sa.String(length=64), nullable=False),
        sa.Column("model_id", sa.String(length=64), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index(
        op.f("ix_llm_response_cache_expires_at"), "llm_response_cache", ["expires_at"], unique=False
    )


def _model_lineage() -> None:
    op.create_table(
        "model_lineage",
        sa.Column("version_id", sa.String(length=128), nullable=False),
        sa.Column("parent_version", sa.String(length=128), nullable=False),
        sa.Column("relationship_type", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("version_id", "parent_version"),
    )
    op.create_index(
        op.f("ix_model_lineage_parent_version"), "model_lineage", ["parent_version"], unique=False
    )


def _model_versions() -> None:
    op.create_table(
        "model_versions",
        sa.Column("version_id", sa.String(length=128), nullable=False),
        sa.Column("model_name", sa.String(length=191), nullable=False),
        sa.Column("model_type", sa.String(length=64), nullable=False),
        sa.Column("file_path", sa.String(), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=True),
        sa.Column("performance_metrics", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("parent_version", sa.String(length=128), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("file_hash", sa.String(length=64), nullable=False),
        sa.Column("file_size", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("version_id"),
    )
    op.create_index(
        op.f("ix_model_versions_created_at"), "model_versions", ["created_at"], unique=False
    )
    op.create_index(
        op.f("ix_model_versions_model_name"), "model_versions", ["model_name"], unique=False
    )
    op.create_index(
        op.f("ix_model_versions_model_type"), "model_versions", ["model_type"], unique=False
    )
    op.create_index(
        op.f("ix_model_versions_parent_version"), "model_versions", ["parent_version"], unique=False
    )
    op.create_index(op.f("ix_model_versions_status"), "model_versions", ["status"], unique=False)


def _promoted_strategies() -> None:
    op.create_table(
        "promoted_strategies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("strategy", sa.String(length=32), nullable=False),
        sa.Column("params", sa.JSON(), nullable=True),
        sa.Column("source_run_id", sa.Integer(), nullable=True),
        sa.Column("source_uid", sa.Integer(), nullable=True),
        sa.Column("symbols", sa.JSON(), nullable=True),
        sa.Column("settings", sa.JSON(), nullable=True),
        sa.Column("split", sa.JSON(), nullable=True),
        sa.Column("fitness", sa.Float(), nullable=True),
        sa.Column("in_sample", sa.JSON(), nullable=True),
        sa.Column("out_of_sample", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_promoted_strategies_name"), "promoted_strategies", ["name"], unique=True
    )


def _retrain_locks() -> None:
    op.create_table(
        "retrain_locks",
        sa.Column("model_name", sa.String(length=191), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("owner_pid", sa.Integer(), nullable=False),
        sa.Column("owner_host", sa.String(length=191), nullable=False),
        sa.Column("acquired_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("model_name"),
    )


def _retrain_records() -> None:
    op.create_table(
        "retrain_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.String(length=128), nullable=False),
        sa.Column("model_name", sa.String(length=191), nullable=False),
        sa.Column("trigger", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("new_version_id", sa.String(length=128), nullable=True),
        sa.Column("decision", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("old_metrics", sa.JSON(), nullable=True),
        sa.Column("new_metrics", sa.JSON(), nullable=True),
        sa.Column("environments", sa.JSON(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("owner_pid", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_retrain_records_created_at"), "retrain_records", ["created_at"], unique=False
    )
    op.create_index(
        op.f("ix_retrain_records_model_name"), "retrain_records", ["model_name"], unique=False
    )
    op.create_index(op.f("ix_retrain_records_status"), "retrain_records", ["status"], unique=False)
    op.create_index(
        op.f("ix_retrain_records_version_id"), "retrain_records", ["version_id"], unique=False
    )


def _retrain_settings() -> None:
    op.create_table(
        "retrain_settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )


def _training_runs() -> None:
    op.create_table(
        "training_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("symbol", sa.String(length=64), nullable=False),
        sa.Column("model_type", sa.String(length=16), nullable=False),
        sa.Column("config", sa.JSON(), nullable=True),
        sa.Column("register_model", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("parent_version", sa.String(length=191), nullable=True),
        sa.Column("relationship", sa.String(length=32), nullable=False),
        sa.Column("job_id", sa.String(length=191), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("host", sa.String(length=255), nullable=True),
        sa.Column("proc_started", sa.Float(), nullable=True),
        sa.Column("device", sa.String(length=32), nullable=True),
        sa.Column("epochs_total", sa.Integer(), nullable=False),
        sa.Column("epochs_done", sa.Integer(), nullable=False),
        sa.Column("best_epoch", sa.Integer(), nullable=False),
        sa.Column("samples_per_second", sa.Float(), nullable=True),
        sa.Column("requested_action", sa.String(length=16), nullable=True),
        sa.Column("version_id", sa.String(length=191), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_training_runs_created_at"), "training_runs", ["created_at"], unique=False
    )
    op.create_index(op.f("ix_training_runs_status"), "training_runs", ["status"], unique=False)


def _evolution_checkpoints() -> None:
    op.create_table(
        "evolution_checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["evolution_runs.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_evolution_checkpoints_run_id"), "evolution_checkpoints", ["run_id"], unique=False
    )


def _evolution_generations() -> None:
    op.create_table(
        "evolution_generations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("island", sa.Integer(), nullable=False),
        sa.Column("best", sa.Float(), nullable=False),
        sa.Column("mean", sa.Float(), nullable=False),
        sa.Column("worst", sa.Float(), nullable=False),
        sa.Column("diversity", sa.Float(), nullable=False),
        sa.Column("mutation_rate", sa.Float(), nullable=True),
        sa.Column("evaluations", sa.Integer(), nullable=False),
        sa.Column("n_individuals", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["evolution_runs.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("run_id", "generation", "island"),
    )
    op.create_index(
        op.f("ix_evolution_generations_run_id"), "evolution_generations", ["run_id"], unique=False
    )


def _evolution_individuals() -> None:
    op.create_table(
        "evolution_individuals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("island", sa.Integer(), nullable=False),
        sa.Column("born", sa.Integer(), nullable=False),
        sa.Column("age", sa.Integer(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=True),
        sa.Column("fitness", sa.Float(), nullable=False),
        sa.Column("objectives", sa.JSON(), nullable=True),
        sa.Column("in_sample", sa.JSON(), nullable=True),
        sa.Column("out_of_sample", sa.JSON(), nullable=True),
        sa.Column("parents", sa.JSON(), nullable=True),
        sa.Column("evaluated", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["evolution_runs.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_evolution_individuals_generation"),
        "evolution_individuals",
        ["generation"],
        unique=False,
    )
    op.create_index(
        op.f("ix_evolution_individuals_run_id"), "evolution_individuals", ["run_id"], unique=False
    )
    op.create_index(
        op.f("ix_evolution_individuals_uid"), "evolution_individuals", ["uid"], unique=False
    )


def _model_deployments() -> None:
    op.create_table(
        "model_deployments",
        sa.Column("deployment_id", sa.String(length=64), nullable=False),
        sa.Column("version_id", sa.String(length=128), nullable=False),
        sa.Column("environment", sa.String(length=32), nullable=False),
        sa.Column("deployed_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("performance_snapshot", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["model_versions.version_id"],
        ),
        sa.PrimaryKeyConstraint("deployment_id"),
    )
    op.create_index(
        op.f("ix_model_deployments_deployed_at"), "model_deployments", ["deployed_at"], unique=False
    )
    op.create_index(
        op.f("ix_model_deployments_environment"), "model_deployments", ["environment"], unique=False
    )
    op.create_index(
        op.f("ix_model_deployments_version_id"), "model_deployments", ["version_id"], unique=False
    )


def _training_epochs() -> None:
    op.create_table(
        "training_epochs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("train_loss", sa.Float(), nullable=True),
        sa.Column("val_loss", sa.Float(), nullable=True),
        sa.Column("train_acc", sa.Float(), nullable=True),
        sa.Column("val_acc", sa.Float(), nullable=True),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.Column("samples_per_second", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["training_runs.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_training_epochs_run_id"), "training_epochs", ["run_id"], unique=False)


#: In dependency order (a foreign key's target first).
TABLES: dict[str, Callable[[], None]] = {
    "ai_decisions": _ai_decisions,
    "ai_performance_metrics": _ai_performance_metrics,
    "backtest_runs": _backtest_runs,
    "datasets": _datasets,
    "evolution_runs": _evolution_runs,
    "job_runs": _job_runs,
    "llm_budget_lock": _llm_budget_lock,
    "llm_calls": _llm_calls,
    "llm_response_cache": _llm_response_cache,
    "model_lineage": _model_lineage,
    "model_versions": _model_versions,
    "promoted_strategies": _promoted_strategies,
    "retrain_locks": _retrain_locks,
    "retrain_records": _retrain_records,
    "retrain_settings": _retrain_settings,
    "training_runs": _training_runs,
    "evolution_checkpoints": _evolution_checkpoints,
    "evolution_generations": _evolution_generations,
    "evolution_individuals": _evolution_individuals,
    "model_deployments": _model_deployments,
    "training_epochs": _training_epochs,
}


def upgrade() -> None:
    """Create every table of this revision that the database does not have yet."""
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    for name, create in TABLES.items():
        if name not in existing:
            create()


def downgrade() -> None:
    """Drop every table of this revision (the lab's data with it)."""
    for name in reversed(TABLES):
        op.drop_table(name)
