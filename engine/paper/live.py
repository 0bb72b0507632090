"""The live clock: download new daily bars for the books' symbols, then step the books.

:func:`refresh` downloads every symbol a book trades that came from a download (the
existing path, :func:`engine.market.download`; bundled samples and imports are never
re-downloaded) and then steps each book to its newest stored bar. All downloads happen
before any book steps; a download that fails (no yfinance, no network, no bars) raises the
download's own one-line error and no book is stepped — and since the first download is the
first write, a machine without yfinance or without a network changes nothing at all. (When
a later symbol fails, the symbols downloaded before it keep their new bars; no book moves.)

The scheduled form is :mod:`engine.paper.schedule` (``paper live BOOK on``): one job on
the shared scheduler refreshing every live book.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from engine.paper.book import get_book, list_books, sleeves_of
from engine.paper.replay import step_book

#: Far enough ahead that stepping "to" it processes every stored bar.
_END_OF_TIME = datetime(9999, 12, 31)


def refresh(book: str | None = None, *, session: Any = None,
            books: Sequence[str] | None = None) -> dict[str, Any]:
    """Download, then step ``book`` — or each of ``books`` — (default: every book).
    ``session`` is the HTTP session the download uses (tests pass a fake one). Returns
    ``{"downloaded", "skipped", "books": [step results]}``."""
    from engine.market import download, get_dataset_info

    if book is not None and books is not None:
        raise ValueError("give book or books, not both")
    if books is not None:
        targets = [get_book(b) for b in books]
    else:
        targets = [get_book(book)] if book else list_books()
    symbols = sorted({s for b in targets for sl in sleeves_of(b) for s in sl.symbols})
    downloaded, skipped = [], []
    for sym in symbols:
        info = get_dataset_info(sym)
        if info.source != "download":
            skipped.append({"symbol": sym, "source": info.source})
            continue
        rep = download(sym, overwrite=True, session=session)
        downloaded.append({"symbol": sym, "rows": rep.rows})
    results = [step_book(b.name, to=_END_OF_TIME).to_dict() for b in targets
               if sleeves_of(b)]
    return {"downloaded": downloaded, "skipped": skipped, "books": results}
