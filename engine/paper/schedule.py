"""The live schedule: one job on the shared scheduler that refreshes every live book.

A book is *live* when its name is in the arguments of the job ``paper-live``
(``engine.paper.schedule:live_job``, persisted in the scheduler's job store, so the list
survives a restart and needs no column of its own). The job runs on weekdays after the US
close (:data:`LIVE_CRON`, UTC): it downloads new daily bars for every live book's symbols
through :func:`engine.market.download`, then steps each live book to its newest bar
(:func:`engine.paper.live.refresh`). Without yfinance or a network the run fails with the
download's one-line error (recorded in ``job_runs``) and changes nothing.

:func:`set_live` turns a book's schedule on or off (the last book off removes the job);
:func:`live_books` lists the live books. The command line edits the store through a paused
scheduler (:func:`engine.scheduler.editing`) and never runs the job itself.
"""

from __future__ import annotations

from typing import Any

from engine.paper.book import get_book

LIVE_JOB_ID = "paper-live"
#: The persisted job reference: keep this name importable.
LIVE_FUNC = "engine.paper.schedule:live_job"
#: Weekdays at 22:30 UTC, after the US close (daily bars are final by then).
LIVE_CRON = {"day_of_week": "mon-fri", "hour": 22, "minute": 30}
#: A run missed while the app was closed still runs (once: coalesced) when it starts within
#: 12 hours — the next morning — instead of waiting for the next weekday.
LIVE_GRACE_S = 12 * 3600


def live_job(books: list[str]) -> dict[str, Any]:
    """The scheduled job: refresh the live books that still exist (others are listed)."""
    from engine.paper.book import list_books
    from engine.paper.live import refresh

    known = {b.name for b in list_books()}
    present = [b for b in books if b in known]
    out = refresh(books=present) if present else {"downloaded": [], "skipped": [],
                                                   "books": []}
    out["missing"] = [b for b in books if b not in known]
    return out


def _sched(scheduler: Any) -> Any:
    if scheduler is not None:
        return scheduler
    from engine.scheduler import get_scheduler

    return get_scheduler()


def live_books(scheduler: Any = None) -> list[str]:
    """The books the live job refreshes (empty when it is not scheduled)."""
    job = _sched(scheduler).get_job(LIVE_JOB_ID)
    return list(job.args[0]) if job is not None and job.args else []


def set_live(book: str, on: bool, *, scheduler: Any = None) -> list[str]:
    """Put ``book`` on the live schedule (``on``) or take it off; returns the live books.

    The book must exist (``BookNotFound`` names the known ones). Turning on a live book,
    or off one that is not, changes nothing; the job keeps its next run time."""
    from engine.scheduler import schedule

    name = get_book(book).name
    sched = _sched(scheduler)
    books = live_books(sched)
    if on == (name in books):
        return books
    books = sorted({*books, name}) if on else [b for b in books if b != name]
    job = sched.get_job(LIVE_JOB_ID)
    if not books:
        sched.remove_job(LIVE_JOB_ID)
    elif job is not None and job.func_ref == LIVE_FUNC:
        job.modify(args=[books])
    else:
        schedule(LIVE_FUNC, job_id=LIVE_JOB_ID, trigger="cron", args=[books],
                 name="paper desk: download daily bars, step live books", scheduler=sched,
                 misfire_grace_time=LIVE_GRACE_S, **LIVE_CRON)
    return books
