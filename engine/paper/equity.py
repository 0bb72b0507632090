"""A book's equity curves from its snapshots: the total and each sleeve, per bar."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from engine.paper.book import get_book, sleeves_of
from engine.paper.tables import PaperEquity


def book_equity(book_name: str) -> dict[str, Any]:
    """``{"time": [iso], "equity": [...], "sleeves": {name: {"time", "equity"}}}``."""
    from engine.db import read_scope

    with read_scope() as s:
        book = get_book(book_name, s)
        names = {sl.id: sl.name for sl in sleeves_of(book, s)}
        rows = list(s.exec(select(PaperEquity).where(PaperEquity.book_id == book.id)
                           .order_by(PaperEquity.time, PaperEquity.id)))
    out: dict[str, Any] = {"time": [], "equity": [], "sleeves": {n: {"time": [], "equity": []}
                                                               for n in names.values()}}
    for r in rows:
        t = r.time.strftime("%Y-%m-%dT%H:%M:%S")
        if r.sleeve_id is None:
            out["time"].append(t)
            out["equity"].append(r.equity)
        else:
            d = out["sleeves"][names[r.sleeve_id]]
            d["time"].append(t)
            d["equity"].append(r.equity)
    return out
