"""Paper Trading: books of sleeves trading forward, bar by bar, under one risk manager.

Thin page over :mod:`engine.paper`; its sections live in ``ui/``: the new-book form, the
book's cards, the clock and the ledger's tables (:mod:`ui.paper_sections`), the sleeves with
pause / resume and backtest vs paper (:mod:`ui.paper_sleeves`), adding a sleeve
(:mod:`ui.paper_add`, shared with the Backtest, Evolution, Model Registry and AI Analyst
pages) and the figures (:mod:`ui.paper_charts`). A replay runs in the page's own script run
with a progress bar (``step_book``'s ``on_progress``); nothing polls while the tab is idle.
"""

from __future__ import annotations

import streamlit as st

from engine import paper
from ui import components, paper_add, paper_sections, paper_sleeves
from ui.paper_sections import NOTICE

ss = st.session_state
paper_sections.init_state()

st.title("Paper Trading")
st.caption("Strategies, models and ensembles trade forward in one book: signals at a bar's "
           "close, fills at the next open, the backtester's own code; every entry passes "
           "the book's risk limits.")
components.show_notice(NOTICE)

books = components.call_engine(NOTICE, paper.list_books) or []
with st.expander("New book", expanded=not books, icon=":material/add:"):
    paper_sections.new_book_form()
if not books:
    st.info("No paper books yet: create one above (the defaults are the seed's limits).",
            icon=":material/account_balance:")
    st.stop()

names = [b.name for b in books]
if ss.get("pt_book") not in names:
    ss["pt_book"] = names[-1]
book = st.selectbox("Book", names, key="pt_book")
status = components.call_engine(NOTICE, paper.book_status, book)
if status is None:
    st.stop()
paper_sections.book_cards(status)
with st.container(border=True):
    paper_sections.clock_controls(book)

tabs = st.tabs(["Equity", "Positions", "Orders & fills", "Risk events", "Correlation",
                "Sleeves", "Backtest vs paper", "Add a sleeve"])
with tabs[0]:
    paper_sections.equity_section(book)
with tabs[1]:
    paper_sections.positions_table(status)
with tabs[2]:
    paper_sections.orders_and_fills(book)
with tabs[3]:
    paper_sections.risk_events(book)
with tabs[4]:
    paper_sections.correlation_section(status)
with tabs[5]:
    paper_sleeves.sleeves_table(status)
with tabs[6]:
    paper_sleeves.reconcile_section(status)
with tabs[7]:
    spec = paper_add.sleeve_definition(status, key="pt_new")
    paper_add.add_as_sleeve(spec, key="pt_add", book=book, label="Add sleeve")
