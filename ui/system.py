"""Helpers of the System page: GPU probe (cached), redacted database URL, job tables.

No engine business here: the GPU probe imports torch lazily, once per process; the rest
turns engine records into display frames.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import polars as pl
import streamlit as st


@st.cache_resource(show_spinner="Checking for a GPU…")
def gpu_info() -> dict[str, Any]:
    """``{"available", "devices": [{"name", "memory_gb"}], "torch", "note"}``.

    torch is imported here, lazily, and only once per process (it takes seconds).
    """
    try:
        import torch
    except Exception as exc:  # noqa: BLE001 - not installed or broken: CPU only
        return {"available": False, "devices": [], "torch": None,
                "note": f"torch is not importable ({type(exc).__name__}); CPU only"}
    out: dict[str, Any] = {"available": False, "devices": [], "torch": torch.__version__,
                           "note": ""}
    try:
        if torch.cuda.is_available():
            out["available"] = True
            for i in range(torch.cuda.device_count()):
                p = torch.cuda.get_device_properties(i)
                out["devices"].append({"name": p.name,
                                       "memory_gb": round(p.total_memory / 2**30, 1)})
    except Exception as exc:  # noqa: BLE001 - a broken driver is reported, not raised
        out["note"] = f"CUDA check failed: {exc}"
    return out


def redacted_url(url: str) -> str:
    """The database URL with any password hidden."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - unparsable: show only its scheme
        return url.split("://", 1)[0] + "://…"


def human_bytes(n: int | None) -> str:
    if n is None:
        return "n/a (server database)"
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1024
    return f"{size:,.1f} GB"


def when(d: datetime | None) -> str:
    return f"{d:%Y-%m-%d %H:%M:%S}" if d is not None else "—"


def short_result(value: Any, limit: int = 160) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def last_line(error: str) -> str:
    lines = [x for x in (error or "").strip().splitlines() if x.strip()]
    return lines[-1] if lines else ""


def runs_frame(runs: Sequence[Any]) -> pl.DataFrame:
    """Recorded job executions (engine.scheduler.last_runs) as a table."""
    def seconds(r: Any) -> float | None:
        if r.finished_at is None or r.started_at is None:
            return None
        return round((r.finished_at - r.started_at).total_seconds(), 2)

    return pl.DataFrame({
        "Job": [r.job_id for r in runs],
        "Status": [r.status for r in runs],
        "Started (UTC)": [when(r.started_at) for r in runs],
        "Finished (UTC)": [when(r.finished_at) for r in runs],
        "Seconds": [seconds(r) for r in runs],
        "Result": [short_result(r.result) for r in runs],
        "Error": [last_line(r.error) for r in runs],
    }, schema_overrides={"Seconds": pl.Float64})


def breakers_frame(states: Sequence[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame({
        "Model": [b["model"] for b in states],
        "State": [b["state"] for b in states],
        "Failures": [b["failures"] for b in states],
        "Retry in (s)": [b["retry_in_s"] for b in states],
        "Last error": [b.get("last_error") or "" for b in states],
    }, schema_overrides={"Failures": pl.Int64, "Retry in (s)": pl.Float64})


def evolution_frame(runs: Sequence[Any]) -> pl.DataFrame:
    return pl.DataFrame({
        "Run": [r.id for r in runs],
        "Name": [r.name for r in runs],
        "Data": [",".join(r.config.get("symbols", [])) for r in runs],
        "Status": [r.status for r in runs],
        "Generation": [f"{r.generations_done} / {r.target_generations or '?'}" for r in runs],
        "Progress %": [round(100 * r.progress, 1) for r in runs],
        "Best fitness": [r.best_fitness for r in runs],
        "Updated (UTC)": [when(r.updated_at) for r in runs],
    }, schema_overrides={"Best fitness": pl.Float64})


def trigger_words(trigger: str) -> str:
    """APScheduler's trigger text in words: ``interval[1:00:00]`` → "every 1 hour",
    ``interval[0:05:00]`` → "every 5 minutes", ``interval[1 day, 0:00:00]`` → "every 1 day",
    ``date[2026-01-01 00:00:00 UTC]`` → "once, at 2026-01-01 00:00:00 UTC"; anything else
    (cron) as ``cron: …``."""
    m = re.fullmatch(r"interval\[(?:(\d+) days?, )?(\d+):(\d\d):(\d\d)(?:\.\d+)?\]",
                     trigger.strip())
    if m:
        d, h, mi, se = (int(x or 0) for x in m.groups())
        parts = [(d, "day"), (h, "hour"), (mi, "minute"), (se, "second")]
        words = [f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in parts if n]
        return "every " + (" ".join(words) or "0 seconds")
    m = re.fullmatch(r"date\[(.+)\]", trigger.strip())
    if m:
        return f"once, at {m.group(1)}"
    m = re.fullmatch(r"cron\[(.+)\]", trigger.strip())
    if m:
        return f"cron: {m.group(1)}"
    return trigger


def stable_jobs(jobs: Sequence[Any]) -> list[Any]:
    """Jobs in one order that pausing cannot change (by name, then id): the store sorts by
    next run time, so a paused job (no next run) dropped to the bottom and the next click
    landed on another job."""
    return sorted(jobs, key=lambda j: ((j.name or "").lower(), j.id))


def seed_metric_cards(m: dict[str, Any]) -> list[tuple[str, str, str]]:
    """``(label, value, help)`` of the seed's system metrics (``SystemMetrics.to_dict()``)."""
    def num(v: float | None, fmt: str = "{:,.2f}") -> str:
        return "—" if v is None else fmt.format(v)

    lat = m["job_latency"]
    up = m["scheduler_uptime_s"]
    uptime = "—" if up is None else (f"{up / 3600:,.1f} h" if up >= 3600 else f"{up:,.0f} s")
    return [
        ("Strategies evaluated / hour", num(m["strategies_evaluated_per_hour"], "{:,.1f}"),
         f"Fresh evolution backtests: {m['strategies_evaluated']:,} in the window."),
        ("Generations / day", num(m["generations_per_day"], "{:,.1f}"),
         f"{m['generations']:,} generations in the window."),
        ("Retrains / day", num(m["retrains_per_day"], "{:,.1f}"),
         f"{m['retrains']:,} retrains finished in the window."),
        ("Scheduler uptime", uptime,
         "Since this app process started its scheduler."),
        ("Job latency (median)", num(lat["median_s"], "{:,.2f} s"),
         f"Run time of {lat['runs']:,} finished job runs; p95 {num(lat['p95_s'], '{:,.2f} s')}"
         f", max {num(lat['max_s'], '{:,.2f} s')}."),
    ]


def latency_frame(jobs: Sequence[dict[str, Any]]) -> pl.DataFrame:
    """Per-job run counts and durations (``SystemMetrics.jobs``) as a table."""
    return pl.DataFrame({
        "Job": [j["job"] for j in jobs],
        "Runs": [j["runs"] for j in jobs],
        "Errors": [j["errors"] for j in jobs],
        "Median s": [j["median_s"] for j in jobs],
        "p95 s": [j["p95_s"] for j in jobs],
        "Max s": [j["max_s"] for j in jobs],
    }, schema={"Job": pl.Utf8, "Runs": pl.Int64, "Errors": pl.Int64, "Median s": pl.Float64,
               "p95 s": pl.Float64, "Max s": pl.Float64})
