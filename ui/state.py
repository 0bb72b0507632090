"""Session state and cached data access: the one place the app's state is initialised.

Widget keys are stable and prefixed by page (``md_`` Market Data, ``bt_`` Backtest,
``sw_`` sweep); the sidebar's dataset choice is ``dataset``. Widgets are created without a
``value=`` argument and read their default from session state, so reopening a saved run
(or applying a sweep's best parameters) can set them before they are drawn.
"""

from __future__ import annotations

from typing import Any

import polars as pl
import streamlit as st

#: Every static key with its default (dynamic keys — one per strategy parameter — are set
#: by :func:`ensure` from the engine's parameter defaults when first drawn).
DEFAULTS: dict[str, Any] = {
    # app.py: the catalogue (refreshed on every run) and the sidebar's active dataset
    "datasets": [],
    "dataset": None,
    # Market Data
    "md_overlays": ["SMA", "Bollinger"],
    "md_panels": ["Volume", "RSI", "MACD"],
    "md_regimes": True,
    "md_sma_n": 50,
    "md_ema_n": 20,
    "md_bb_n": 20,
    "md_bb_k": 2.0,
    "md_rsi_n": 14,
    "md_macd_fast": 12,
    "md_macd_slow": 26,
    "md_macd_signal": 9,
    "md_import_symbol": "",
    "md_import_overwrite": False,
    "md_import_result": None,  # {"ok": bool, "symbol", "report" | "error"}
    # Backtest
    "bt_strategy": "sma_cross",
    "bt_sl_pct": 0.0,
    "bt_tp_pct": 0.0,
    "bt_sizing": "All-in",
    "bt_size_pct": 25.0,
    "bt_commission_pct": 0.1,
    "bt_cash": 10_000.0,
    "bt_direction": "Long only",
    "bt_fractional": False,
    "bt_result": None,  # {"result", "symbol", "run_id", "note"}
    "bt_pending": None,  # a saved run id to reopen on the next run of the page
    "sw_metric": "sharpe",
    "sw_result": None,  # {"sweep", "symbol", "params", "keys"}
}


def init_session_state() -> None:
    """Give every known key its default once per session (called by app.py each run)."""
    for key, value in DEFAULTS.items():
        if key not in st.session_state:
            st.session_state[key] = list(value) if isinstance(value, list) else value


#: The query parameter that keeps the active dataset in the page address (?dataset=SP500).
DATASET_PARAM = "dataset"


def dataset_from_url() -> str | None:
    """The dataset a reloaded or bookmarked address asks for (None when it names none)."""
    value = st.query_params.get(DATASET_PARAM)
    return str(value) if value else None


def keep_dataset_in_url(symbol: str | None) -> None:
    """Write the active dataset into the address (every run: a page switch drops it)."""
    if symbol and st.query_params.get(DATASET_PARAM) != symbol:
        st.query_params[DATASET_PARAM] = symbol


def active_dataset() -> str | None:
    """The active dataset's symbol, which every page follows: the sidebar's choice, kept
    across reloads in ``?dataset=`` (None before the sidebar has run or with no data).

    Pages read this rather than keeping their own dataset picker; a page that wants
    another dataset active sets ``st.session_state["dataset_pending"]`` (applied by app.py
    before the sidebar is drawn).
    """
    return st.session_state.get("dataset")


def active_dataset_info() -> Any | None:
    """The catalogue entry (``DatasetInfo``) of :func:`active_dataset`, or None."""
    symbol = active_dataset()
    return next((i for i in st.session_state.get("datasets") or [] if i.symbol == symbol),
                None)


def ensure(key: str, default: Any) -> Any:
    """Set a dynamic widget key's default if it has none; return its value."""
    if key not in st.session_state:
        st.session_state[key] = default
    return st.session_state[key]


def param_key(strategy: str, name: str) -> str:
    """The widget key of one strategy parameter on the Backtest page."""
    return f"bt_p_{strategy}_{name}"


# --------------------------------------------------------------------------- cached data

def dataset_version(info: Any) -> str:
    """A cache key part that changes when a dataset is replaced (overwrite import)."""
    return f"{info.path}|{info.n_rows}|{info.start}|{info.end}"


@st.cache_data(show_spinner="Loading dataset…", max_entries=12)
def load_full(symbol: str, version: str) -> pl.DataFrame:
    """The whole canonical frame of ``symbol`` (cached per symbol and version)."""
    from engine.market import load_dataset

    return load_dataset(symbol)


@st.cache_data(show_spinner="Detecting market regimes…", max_entries=12)
def load_regimes(symbol: str, version: str) -> pl.DataFrame:
    """``timestamp`` and ``regime`` of the whole dataset (regimes use past bars only)."""
    from engine.market import detect_regimes

    return detect_regimes(load_full(symbol, version)).select("timestamp", "regime")


def clear_data_caches() -> None:
    """Forget cached frames (after an import replaced a dataset)."""
    load_full.clear()
    load_regimes.clear()
