"""Adding a sleeve to a paper book — one section, used by every page that offers it.

:func:`add_as_sleeve` draws the part every page shares: the book (an existing one, or a new
one with the seed's limits), the sleeve's name, its symbols and its allocation, and the
button that calls :func:`engine.paper.add_spec`. What the sleeve *is* comes from the
calling page as an :class:`engine.paper.SleeveSpec`: the Backtest page's strategy and stops
(:func:`engine.paper.sleeve_config_from_backtest`), a promoted genome (Evolution), a
registry version (Model Registry), the analyst (AI Analyst), or — on the Paper Trading page
itself — :func:`sleeve_definition`, which builds any kind from widgets.

Each use has its own ``key`` (widget keys and its notice, drawn inside the section).
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from engine import paper
from engine.backtest import STRATEGIES
from ui import components
from ui.params import decimals, typed, widget_step
from ui.state import active_dataset

ss = st.session_state
#: The book choice that creates a new book (with the seed's limits) on the way.
NEW_BOOK = "＋ New book (seed limits)"
KIND_LABELS = {"strategy": "Strategy", "model": "Model version", "ensemble": "Ensemble",
               "analyst": "AI analyst"}


def _book_names() -> list[str]:
    try:
        return [b.name for b in paper.list_books()]
    except Exception:  # noqa: BLE001 - a broken table must not take the host page down
        return []


def _add(key: str, spec: paper.SleeveSpec, fixed: str | None) -> None:
    """Create the book when asked, then add the sleeve; one notice. Run in the script
    after the widgets (not as a callback), so ``spec`` is built from their current values
    even when a value was typed and the button clicked in one go."""
    book = fixed or ss.get(f"{key}_book")
    if book == NEW_BOOK or book is None:
        book = (ss.get(f"{key}_new_book") or "").strip()
        if components.call_engine(f"{key}_notice", paper.create_book, book) is None:
            return
    symbols = list(ss.get(f"{key}_symbols") or [])
    allocation = round(float(ss.get(f"{key}_alloc") or 0.0) / 100.0, 10)
    name = (ss.get(f"{key}_name") or "").strip()
    out = components.call_engine(
        f"{key}_notice", paper.add_spec, book, name, spec, symbols, allocation,
        ok=f"Added sleeve **{name}** ({spec.kind}) to book **{book}** with "
           f"{allocation:.0%} of its cash."
           + ("" if fixed else " Replay it on **Paper Trading**."))
    if out is not None:
        if fixed is None:
            ss["pt_book"] = book  # the Paper Trading page opens on it
            ss[f"{key}_book_pending"] = book  # applied before the picker is drawn
        ss.pop(f"{key}_for", None)  # fresh defaults (a free name, the allocation left)


def add_as_sleeve(spec: paper.SleeveSpec | None, *, key: str, book: str | None = None,
                  label: str = "Add to book") -> None:
    """The shared part of adding ``spec`` as a sleeve. ``book`` fixes the book (the Paper
    Trading page); otherwise the user picks one, or names a new one."""
    components.show_notice(f"{key}_notice")
    if spec is None:
        return
    infos = ss.get("datasets") or []
    symbols_known = [i.symbol for i in infos]
    fixed = book
    if book is None:
        names = _book_names()
        options = [*names, NEW_BOOK]
        if ss.get(f"{key}_book_pending") in options:
            ss[f"{key}_book"] = ss.pop(f"{key}_book_pending")
        if ss.get(f"{key}_book") not in options:
            ss[f"{key}_book"] = ss.get("pt_book") if ss.get("pt_book") in names else options[0]
        c0, c1 = st.columns([2, 2])
        book = c0.selectbox("Paper book", options, key=f"{key}_book",
                            help="The book the sleeve trades in; a new book gets the seed's "
                                 "risk limits (change them on **Paper Trading**).")
        if book == NEW_BOOK:
            ss.setdefault(f"{key}_new_book", "paper")
            c1.text_input("New book name", key=f"{key}_new_book", max_chars=64)
    status = _status(book) if book != NEW_BOOK else None
    taken = [s["name"] for s in (status or {}).get("sleeves", [])]
    free = paper.free_allocation(status) if status else 1.0
    # a spec without symbols of its own follows the sidebar's dataset
    follows = None if spec.symbols else active_dataset()
    marker = (book, spec.kind, spec.name, tuple(spec.symbols), len(taken), follows)
    if ss.get(f"{key}_for") != marker:  # new spec or book: fresh defaults
        ss[f"{key}_for"] = marker
        ss[f"{key}_name"] = paper.unique_sleeve_name(spec.name, taken)
        wanted = [s for s in spec.symbols if s in symbols_known]
        if not wanted and active_dataset() in symbols_known:
            wanted = [active_dataset()]
        ss[f"{key}_symbols"] = wanted
        ss[f"{key}_alloc"] = round(free * 100.0, 4)
    c1, c2, c3 = st.columns([2, 3, 1.4])
    c1.text_input("Sleeve name", key=f"{key}_name", max_chars=64)
    c2.multiselect("Symbols", symbols_known, key=f"{key}_symbols",
                   help="The datasets the sleeve trades (one position per symbol).")
    c3.number_input("Allocation %", key=f"{key}_alloc", step=5.0, format="%.1f",
                    help=f"Share of the book's starting cash ({free:.0%} not yet allocated).")
    if st.button(label, key=f"{key}_btn", type="primary", icon=":material/add:"):
        _add(key, spec, fixed)
        st.rerun()  # the notice, fresh defaults and (on Paper Trading) the new sleeve
    if spec.label:
        st.caption(f"Sleeve: {spec.kind} · {spec.label}")


def _status(book: str) -> dict[str, Any] | None:
    try:
        return paper.book_status(book)
    except Exception:  # noqa: BLE001 - the add button reports the error itself
        return None


# ---------------------------------------------------------------- any kind, from widgets

def _strategy_spec(key: str) -> paper.SleeveSpec | None:
    from engine.evolution import list_promoted

    try:
        promoted = [p.name for p in list_promoted()]
    except Exception:  # noqa: BLE001
        promoted = []
    choices = [*STRATEGIES, *promoted]
    ss.setdefault(f"{key}_strategy", "sma_cross")
    c0, c1, c2, c3, c4 = st.columns([2, 1, 1, 1, 1], vertical_alignment="bottom")
    choice = c0.selectbox("Strategy", choices, key=f"{key}_strategy",
                          format_func=lambda c: c if c in STRATEGIES else f"{c} · promoted",
                          help="A built-in strategy, or a genome promoted on **Evolution**.")
    if choice not in STRATEGIES:
        return _safe(paper.sleeve_config_from_promoted, choice)
    strat = STRATEGIES[choice]
    st.caption(strat.description)
    params = {}
    cols = st.columns(max(3, len(strat.params)) if len(strat.params) <= 5 else 5)
    for i, p in enumerate(strat.params):
        k = f"{key}_p_{choice}_{p.name}"
        ss.setdefault(k, typed(p, p.default))
        col = cols[i % len(cols)]
        if p.kind is int:
            params[p.name] = col.number_input(p.name, step=1, key=k, help=p.doc)
        else:
            step = widget_step(p)
            params[p.name] = col.number_input(p.name, step=step, key=k, help=p.doc,
                                              format=f"%.{decimals(step)}f")
    for name, default in (("sl", 0.0), ("tp", 0.0), ("size", 0.0)):
        ss.setdefault(f"{key}_{name}", default)
    sl = c1.number_input("Stop-loss %", step=0.5, key=f"{key}_sl", help="0 = off")
    tp = c2.number_input("Take-profit %", step=0.5, key=f"{key}_tp", help="0 = off")
    size = c3.number_input("Size % of sleeve", step=5.0, key=f"{key}_size",
                           help="0 = all-in (as much as the sleeve's cash allows)")
    short = c4.checkbox("Short", key=f"{key}_short", help="Reverse on an opposite signal.")
    return _safe(paper.sleeve_config_from_backtest, choice, params, stop_loss=sl / 100,
                 take_profit=tp / 100, size=size / 100, allow_short=short)


def _model_spec(key: str) -> paper.SleeveSpec | None:
    from engine import registry

    try:
        versions = registry.list_versions(status="ACTIVE")
    except Exception as exc:  # noqa: BLE001
        st.error(components.error_line(exc))
        return None
    if not versions:
        st.info("No model versions yet: train one on **Neural Models**.")
        return None
    by_id = {v.version_id: v for v in versions}
    vid = st.selectbox("Model version", list(by_id), key=f"{key}_version",
                       format_func=lambda v: f"{v} · {by_id[v].model_type} · "
                                             f"{', '.join(by_id[v].deployed_to) or 'not deployed'}")
    return _safe(paper.sleeve_config_from_version, vid)


def _ensemble_spec(key: str, status: dict[str, Any]) -> paper.SleeveSpec | None:
    members = [s["name"] for s in status.get("sleeves", [])
               if s["kind"] in ("strategy", "model")]
    if len(members) < 2:
        st.info("An ensemble votes over two or more of this book's strategy or model "
                "sleeves: add them first.")
        return None
    c0, c1, c2, c3 = st.columns([3, 1.3, 1, 1])
    picked = c0.multiselect("Members", members, key=f"{key}_members")
    ss.setdefault(f"{key}_window", 60)
    ss.setdefault(f"{key}_threshold", 0.5)
    weighting = c1.radio("Weighting", ["equal", "sharpe"], key=f"{key}_weighting",
                         horizontal=True, help="sharpe: each member's trailing Sharpe ratio")
    window = c2.number_input("Sharpe window", step=5, key=f"{key}_window")
    threshold = c3.number_input("Threshold", step=0.05, key=f"{key}_threshold",
                                help="The vote needed to act, in (0, 1].")
    if len(picked) < 2:
        st.caption("Pick two or more members.")
        return None
    return _safe(paper.ensemble_spec, picked, weighting=weighting, window=int(window),
                 threshold=float(threshold))


def _analyst_spec(key: str) -> paper.SleeveSpec | None:
    c0, c1 = st.columns(2)
    ss.setdefault(f"{key}_every", 5)
    provider = c0.selectbox("Analyst", ["offline", "anthropic"], key=f"{key}_provider",
                            help="anthropic needs ANTHROPIC_API_KEY; decisions are recorded "
                                 "and reused on a second replay.")
    every = c1.number_input("Ask every N bars", step=1, key=f"{key}_every")
    return _safe(paper.sleeve_config_from_analyst, provider, int(every))


def _safe(fn: Any, *args: Any, **kwargs: Any) -> paper.SleeveSpec | None:
    try:
        return fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback
        st.error(components.error_line(exc))
        return None


def sleeve_definition(status: dict[str, Any], *, key: str = "pt_new") -> paper.SleeveSpec | None:
    """Widgets for any sleeve kind the desk trades (the analyst only where it exists)."""
    kinds = [k for k in ("strategy", "model", "ensemble", "analyst") if k in paper.KINDS]
    kind = st.radio("Kind", kinds, key=f"{key}_kind", horizontal=True,
                    format_func=KIND_LABELS.get)
    if kind == "strategy":
        return _strategy_spec(key)
    if kind == "model":
        return _model_spec(key)
    if kind == "ensemble":
        return _ensemble_spec(key, status)
    return _analyst_spec(key)


def promoted_section(*, key: str = "ev_paper") -> None:
    """Evolution: pick a promoted genome, add it as a sleeve."""
    from engine.evolution import list_promoted

    try:
        names = [p.name for p in list_promoted()]
    except Exception as exc:  # noqa: BLE001
        st.error(components.error_line(exc))
        return
    if not names:
        st.caption("Promote an individual above first.")
        return
    name = st.selectbox("Promoted strategy", names, key=f"{key}_promoted")
    add_as_sleeve(_safe(paper.sleeve_config_from_promoted, name), key=key)


def backtest_section(strategy: str, params: dict[str, Any], settings: Any, symbol: str | None,
                     *, key: str = "bt_paper") -> None:
    """Backtest: the strategy, parameters, stops, size and direction set up above."""
    if settings is None:
        st.caption("Fix the setup above first.")
        return
    spec = _safe(paper.sleeve_config_from_backtest, strategy, params,
                 stop_loss=settings.stop_loss, take_profit=settings.take_profit,
                 size=settings.size, allow_short=settings.allow_short,
                 symbols=[symbol] if symbol else [])
    st.caption("Cash, commission and fractional units are the book's; the risk limits of "
               "the book apply to every entry.")
    add_as_sleeve(spec, key=key)


def version_section(version_id: str, *, key: str = "mr_paper") -> None:
    """Model Registry: the version's Buy/Hold/Sell rule on the symbol it was trained on."""
    add_as_sleeve(_safe(paper.sleeve_config_from_version, version_id), key=key)


def analyst_section(provider: str, *, key: str = "ai_paper") -> None:
    """AI Analyst: the analyst (where the desk trades ``analyst`` sleeves)."""
    if not paper.analyst_available():
        st.caption("Analyst sleeves are not available in this build of the desk.")
        return
    ss.setdefault(f"{key}_every", 5)
    every = st.number_input("Ask every N bars", step=1, min_value=1, key=f"{key}_every")
    add_as_sleeve(_safe(paper.sleeve_config_from_analyst, provider, int(every)), key=key)
