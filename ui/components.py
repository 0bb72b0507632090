"""Page components shared by several pages: the sidebar, metric cards, the import report,
and calling the engine with a notice instead of a traceback (number formats:
:mod:`ui.formatting`).

They draw what the engine returned; they never compute what the engine should.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

import polars as pl
import streamlit as st

from engine.errors import StratLabError
from ui import state
from ui.formatting import fmt_pct, missing

T = TypeVar("T")


@dataclass(frozen=True)
class NavPage:
    """One page of the app: where it lives and how the sidebar and Overview show it."""

    key: str
    path: str
    title: str
    icon: str
    blurb: str


#: Every page, in the order of the workflow (data → backtest → evolution → neural →
#: registry → retrain → AI → paper → costs → system). app.py builds st.navigation from it;
#: Overview links all.
NAV: tuple[NavPage, ...] = tuple(
    NavPage(*row) for row in (
        ("overview", "app_pages/overview.py", "Overview", ":material/home:",
         "This page: the datasets and the latest backtests."),
        ("market", "app_pages/market_data.py", "Market Data", ":material/candlestick_chart:",
         "Candlesticks, indicators, regimes, data quality; import CSV or Parquet."),
        ("backtest", "app_pages/backtest.py", "Backtest", ":material/science:",
         "Run a strategy, see metrics, equity, trades; sweep parameters; reopen runs."),
        ("evolution", "app_pages/evolution.py", "Evolution", ":material/biotech:",
         "Evolve genome strategies in the background; inspect, check overfitting, promote."),
        ("neural", "app_pages/neural_models.py", "Neural Models", ":material/neurology:",
         "Train LSTM / Transformer Buy-Hold-Sell models; live loss; test-period backtest."),
        ("registry", "app_pages/model_registry.py", "Model Registry", ":material/inventory_2:",
         "Model versions: compare, deploy, roll back, archive; lineage graph."),
        ("retrain", "app_pages/auto_retrain.py", "Auto-Retrain", ":material/autorenew:",
         "Monitoring of deployed models, the retrain policy, queue and history."),
        ("ai_analyst", "app_pages/ai_analyst.py", "AI Analyst", ":material/psychology:",
         "Claude (or the offline analyst) reads a symbol: decisions, consensus, risk, cost."),
        ("paper", "app_pages/paper_trading.py", "Paper Trading", ":material/account_balance:",
         "Books of sleeves trading forward under one risk manager; replay, reconcile."),
        ("costs", "app_pages/costs_accuracy.py", "Costs & Accuracy", ":material/payments:",
         "LLM spend against the limits, cache savings, accuracy and calibration."),
        ("system", "app_pages/system.py", "System", ":material/monitor_heart:",
         "Background jobs (pause, resume, run now), database, GPU, LLM circuit breakers."),
    )
)
PAGES = {p.key: p.path for p in NAV}


# ------------------------------------------------------------------------------ datasets

def dataset_kind(info: Any) -> str:
    """"synthetic sample", "imported", … — synthetic data is always labelled so."""
    kind = {"sample": "sample", "import": "imported", "download": "downloaded"}.get(
        info.source, info.source)
    return f"synthetic {kind}" if info.synthetic else kind


def dataset_label(info: Any) -> str:
    """How a dataset is named in pickers: ``SYN-TREND · synthetic sample``."""
    return f"{info.symbol} · {dataset_kind(info)}"


def datasets_frame(infos: Sequence[Any]) -> pl.DataFrame:
    """The catalogue as a table for display."""
    return pl.DataFrame(
        {
            "Symbol": [i.symbol for i in infos],
            "Source": [i.source for i in infos],
            "Synthetic": [bool(i.synthetic) for i in infos],
            "Timeframe": [i.timeframe for i in infos],
            "Rows": [int(i.n_rows) for i in infos],
            "From": [f"{i.start:%Y-%m-%d}" if i.start else "" for i in infos],
            "To": [f"{i.end:%Y-%m-%d}" if i.end else "" for i in infos],
            "Rejected rows": [int(i.n_rejected) for i in infos],
            "Description": [i.description for i in infos],
        }
    )


def sidebar(infos: Sequence[Any]) -> Any | None:
    """The shared sidebar: the active dataset (used by Market Data and Backtest)."""
    with st.sidebar:
        if not infos:
            st.info("No datasets yet: import a CSV or Parquet file on **Market Data**.")
            return None
        by_symbol = {i.symbol: i for i in infos}
        if st.session_state.get("dataset") not in by_symbol:
            from engine.market import default_symbol  # SP500 when present, else the first

            # a reload or a bookmark: the URL's ?dataset= (issue 10, defect 11)
            wanted = state.dataset_from_url()
            st.session_state["dataset"] = (wanted if wanted in by_symbol
                                           else default_symbol(infos))
        symbol = st.selectbox(
            "Dataset", list(by_symbol), key="dataset", persist_state="session",
            format_func=lambda s: dataset_label(by_symbol[s]),
            help="The active dataset: every page uses it (Market Data charts it, Backtest "
                 "runs on it, Evolution and the AI Analyst start from it). It is kept in "
                 "the page address, so a reload or a bookmark keeps it.",
        )
        state.keep_dataset_in_url(symbol)
        info = by_symbol[symbol]
        rng = f"{info.start:%Y-%m-%d} → {info.end:%Y-%m-%d}" if info.start else "empty"
        st.caption(f"{info.n_rows:,} bars · {info.timeframe} · {rng}")
        if info.synthetic:
            st.caption(":orange[Synthetic data — not a real market.]")
        return info


# ------------------------------------------------------------------------------- metrics

@lru_cache(maxsize=1)
def metric_docs() -> dict[str, str]:
    """Metric name → meaning, read from the table in engine.backtest.metrics' docstring."""
    from engine.backtest import metrics

    docs: dict[str, str] = {}
    for line in (metrics.__doc__ or "").splitlines():
        m = re.match(r"^([a-z_]+(?: / [a-z_]+)*)\s{2,}(.+)$", line.strip())
        if m:
            for name in m.group(1).split(" / "):
                docs[name] = m.group(2).strip()
    return docs


def fmt(value: Any, kind: str = "num") -> str:
    """A metric value for a card: ``pct`` (already in percent) → "12.30 %", ``int``,
    ``num`` → 2 decimals."""
    if missing(value):
        return "n/a"
    if kind == "pct":
        return fmt_pct(value, fraction=False)
    if kind == "int":
        return f"{int(value):,}"
    if kind == "money":
        return f"{value:,.2f}"
    return f"{value:,.2f}"


#: The cards of a backtest, in order: (metric, label, kind).
CARDS: tuple[tuple[str, str, str], ...] = (
    ("total_return_pct", "Total return", "pct"),
    ("buy_hold_return_pct", "Buy & hold", "pct"),
    ("cagr_pct", "CAGR", "pct"),
    ("sharpe", "Sharpe", "num"),
    ("sortino", "Sortino", "num"),
    ("max_drawdown_pct", "Max drawdown", "pct"),
    ("win_rate_pct", "Win rate", "pct"),
    ("profit_factor", "Profit factor", "num"),
    ("n_trades", "Trades", "int"),
    ("exposure_pct", "Exposure", "pct"),
)


def metric_cards(metrics: Mapping[str, Any], per_row: int = 5) -> None:
    """st.metric cards for a backtest; total return shows its edge over buy-and-hold.
    Undefined metrics (win rate without trades, Sharpe of a flat curve) read "n/a"."""
    from engine.backtest import defined_metrics

    metrics = defined_metrics(metrics)
    docs = metric_docs()
    for start in range(0, len(CARDS), per_row):
        cols = st.columns(per_row)
        for col, (name, label, kind) in zip(cols, CARDS[start:start + per_row], strict=False):
            delta = None
            if name == "total_return_pct":
                r, bh = metrics.get(name), metrics.get("buy_hold_return_pct")
                if r is not None and bh is not None and math.isfinite(r) and math.isfinite(bh):
                    delta = f"{r - bh:+,.2f} pp vs B&H"
            col.metric(label, fmt(metrics.get(name), kind), delta=delta,
                       help=docs.get(name), border=True)


# ---------------------------------------------------------------------------- data report

def import_report(report: Mapping[str, Any], *, key: str) -> None:
    """Draw an ImportReport (``.to_dict()`` or a dataset's stored report)."""
    rows, rejected = report.get("rows", 0), report.get("rejected", 0)
    c = st.columns(5)
    c[0].metric("Rows kept", f"{rows:,}", border=True)
    c[1].metric("Rows rejected", f"{rejected:,}", border=True,
                help="Rows dropped by validation; the reasons are listed below.")
    c[2].metric("Duplicates", f"{report.get('duplicates', 0):,}", border=True,
                help="Repeated timestamps (the first occurrence in the file is kept).")
    c[3].metric("Gaps", f"{report.get('n_gaps', len(report.get('gaps') or [])):,}",
                border=True, help=f"{report.get('missing_bars', 0):,} missing bars in all")
    c[4].metric("Timeframe", str(report.get("timeframe", "?")), border=True)
    start, end = report.get("start"), report.get("end")
    if start and end:
        st.caption(f"Range: {str(start)[:19].replace('T', ' ')} → "
                   f"{str(end)[:19].replace('T', ' ')} · {report.get('source_rows', 0):,} "
                   "rows in the source")
    for w in report.get("warnings") or []:
        st.warning(w)
    by_reason = report.get("rejected_by_reason") or {}
    if by_reason:
        st.markdown("**Rejected rows by reason**")
        st.dataframe(
            pl.DataFrame({"Reason": list(by_reason), "Rows": [int(v) for v in by_reason.values()]}),
            hide_index=True, key=f"{key}_reasons",
        )
    examples = report.get("examples") or []
    if examples:
        st.markdown("**Examples of rejected rows**")
        st.dataframe(_records_frame(examples), hide_index=True, key=f"{key}_examples")
    gaps = report.get("gaps") or []
    if gaps:
        st.markdown("**Gaps** (missing bars between consecutive timestamps)")
        st.dataframe(_records_frame(gaps), hide_index=True, key=f"{key}_gaps")
    if not by_reason and not gaps and not report.get("duplicates"):
        st.success("Clean data: no rejected rows, duplicates or gaps.")


def _records_frame(records: Sequence[Mapping[str, Any]]) -> pl.DataFrame:
    """Heterogeneous report records as an all-text table (safe for any value types)."""
    cols: list[str] = []
    for r in records:
        cols += [k for k in r if k not in cols]
    return pl.DataFrame({c: [None if r.get(c) is None else str(r.get(c)) for r in records]
                         for c in cols})


# ------------------------------------------------------------------ calling the engine

def error_line(exc: BaseException) -> str:
    """What a page shows for a failed engine call: a StratLabError's message as is (it names
    the problem and the fix); anything else one line with its type, never a traceback."""
    if isinstance(exc, StratLabError):
        return page_error(str(exc))
    return f"Unexpected error ({type(exc).__name__}: {exc})."


#: Command-line advice in engine messages → the page control that does the same. The
#: engine speaks CLI (its errors are shared by the CLI and the app); a page says which of
#: its own controls to use instead (issue 10, defect 10). Applied by :func:`page_error`.
PAGE_WORDING: tuple[tuple[str, str], ...] = (
    (r"pass --overwrite \(overwrite=True\) to replace it",
     "tick *Replace an existing import* to replace it"),
    (r"import it again with --overwrite",
     "import it again on **Market Data** with *Replace an existing import* ticked"),
    (r"`python -m engine data import FILE --symbol (\S+) --overwrite`",
     r"importing the file again as \1 with *Replace an existing import* ticked"),
    (r"use another symbol \(e\.g\. --symbol [^)]*\)", "type another name in *Symbol*"),
    (r"widen --start/--end", "widen the *Date range*"),
    (r"evolve it with `python -m engine evolve --resume \d+`", "press **Evolve**"),
    (r"\(`request_pause\(\d+\)`\)", "(**Pause** or **Stop** above)"),
    (r"promote one with `python -m engine evolution promote RUN UID --name NAME`",
     "promote one on the **Evolution** page"),
    (r"list them with `python -m engine backtest --history`",
     "see the **Saved runs** tab"),
)


def page_error(message: str) -> str:
    """An engine error message as a page says it: CLI flags replaced by the page's own
    controls (see :data:`PAGE_WORDING`); anything else unchanged."""
    for pattern, replacement in PAGE_WORDING:
        message = re.sub(pattern, replacement, message)
    return message


def set_notice(key: str, kind: str, text: str) -> None:
    """Leave a notice (``kind`` is st.success / error / info / warning) for :func:`show_notice`."""
    st.session_state[key] = (kind, text)


def show_notice(key: str) -> None:
    """Draw, once, the notice a button callback left (callbacks run before the page, so
    their message has to wait for the page's run to be drawn)."""
    notice = st.session_state.pop(key, None)
    if notice:
        getattr(st, notice[0])(notice[1])


def call_engine(notice_key: str, fn: Callable[..., T], *args: Any,
                ok: str | Callable[[T], str] | None = None, **kwargs: Any) -> T | None:
    """Call the engine for a page; a failure becomes an error notice under ``notice_key``
    and ``None`` is returned, so a bad input or a broken file never shows a traceback.

    ``ok`` is the success notice (or a function of the result that makes it). A function
    that returns None on success is fine when the caller does not read the result.
    """
    try:
        out = fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - every failure is one line on the page
        set_notice(notice_key, "error", error_line(exc))
        return None
    if ok is not None:
        set_notice(notice_key, "success", ok(out) if callable(ok) else ok)
    return out
