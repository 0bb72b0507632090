"""Message Batches API: screen many symbols at half price — submit → poll → results.

:func:`submit` reserves every request's maximum cost at the batch price (in the cost
ledger, so batches respect the budgets too) and sends one batch; :func:`poll` waits until
``processing_status == "ended"`` (``batch_poll_seconds`` apart, at most
``batch_timeout_seconds``); :func:`collect` reads the JSONL results, validates each reply
and settles its reservation from its usage at the batch price. A request that errored or
expired yields no output (status ``error``); a reply that does not validate gets the same
one repair round as a single call (sent on its own, not batched), and if that fails too it
is ``invalid`` — nothing is invented. :func:`run_batch` does all three.

A poll that fails (an HTTP error, a dropped connection, an unreadable reply) is retried, up
to ``client.batch_poll_retries`` consecutive failures; then — or when the batch does not end
within ``batch_timeout_seconds`` — the batch is cancelled, every reservation released and
:class:`BatchFailed` raised naming the symbols without an answer (the screen then falls back
to interactive calls). Reply usage is checked as for a single call (an anomaly is recorded
at the reservation and stops paid calls until acknowledged).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.errors import StratLabError
from engine.llm import costs
from engine.llm.client import CallResult, ClaudeClient, parse_reply, redact, reply_text
from engine.llm.context import MarketContext
from engine.progress import ProgressCallback, report


class BatchFailed(StratLabError):
    """A submitted batch could not be followed to its end; it was cancelled and its
    reservations released. ``custom_ids`` are the requests left without an answer."""

    def __init__(self, message: str, custom_ids: list[str]):
        super().__init__(message)
        self.custom_ids = custom_ids


@dataclass
class BatchItem:
    custom_id: str
    prompt: str
    ctx: MarketContext
    model_key: str | None = None


@dataclass
class BatchJob:
    batch_id: str
    items: dict[str, dict[str, Any]] = field(default_factory=dict)  # custom_id → bookkeeping


def safe_id(text: str, i: int) -> str:
    """A custom_id the API accepts (``[A-Za-z0-9_-]{1,64}``), unique by index."""
    return f"{i:05d}-{re.sub(r'[^A-Za-z0-9_-]', '_', text)}"[:64]


def submit(client: ClaudeClient, items: list[BatchItem]) -> BatchJob:
    """Reserve and send one batch; return its id and bookkeeping."""
    if not items:
        raise StratLabError("nothing to batch: give at least one symbol")
    book: dict[str, dict[str, Any]] = {}
    requests = []
    try:
        for it in items:
            params, spec, mkey, model = client.request_params(it.prompt, it.ctx,
                                                              model_key=it.model_key)
            max_cost, bound = client.bounds(params, model, batch=True)
            call_id = costs.reserve(
                model_key=mkey, spec=model, prompt=it.prompt, prompt_version=spec.version,
                symbol=it.ctx.symbol, batch=True, cfg=client.cfg, max_cost_usd=max_cost)
            book[it.custom_id] = {"call_id": call_id, "spec": spec, "model_key": mkey,
                                  "model": model, "item": it, "input_bound": bound,
                                  "max_tokens": params["max_tokens"]}
            body = {k: v for k, v in params.items() if k != "extra_body"}
            body.update(params.get("extra_body") or {})
            requests.append({"custom_id": it.custom_id, "params": body})
    except costs.BudgetExceeded:
        _release(book, "batch not sent: budget")
        raise
    try:
        batch = client.sdk.messages.batches.create(requests=requests)
    except Exception as exc:
        _release(book, f"batch submission failed: {type(exc).__name__}")
        raise StratLabError(redact(f"could not submit the batch: {exc}; try again or screen "
                                   "without --batch")) from None
    return BatchJob(batch_id=batch.id, items=book)


def _release(book: dict[str, dict[str, Any]], why: str) -> None:
    for b in book.values():
        costs.settle(b["call_id"], spec=b["model"], usage=costs.Usage(), status="error",
                     error=why, batch=True)


def poll(client: ClaudeClient, batch_id: str, *, interval: float | None = None,
         timeout: float | None = None, sleep: Callable[[float], None] = time.sleep,
         on_progress: ProgressCallback | None = None, retries: int | None = None) -> Any:
    """Wait until the batch has ended; return the final batch object. A failed poll is
    retried ``retries`` times in a row (``client.batch_poll_retries``) before
    :class:`StratLabError` says why; so is a batch that does not end within ``timeout``."""
    interval = client.cfg.client.batch_poll_seconds if interval is None else interval
    timeout = client.cfg.client.batch_timeout_seconds if timeout is None else timeout
    retries = client.cfg.client.batch_poll_retries if retries is None else retries
    start = time.monotonic()
    failures = 0
    while True:
        try:
            b = client.sdk.messages.batches.retrieve(batch_id)
            rc = b.request_counts
            total = rc.processing + rc.succeeded + rc.errored + rc.canceled + rc.expired
            status = b.processing_status
        except Exception as exc:  # any SDK, HTTP or body error: counted, retried, bounded
            failures += 1
            why = _describe(exc)
            if failures > retries:
                raise StratLabError(f"polling batch {batch_id} failed {failures} times in a "
                                    f"row (last: {why})") from None
            sleep(interval)
            continue
        failures = 0
        report(on_progress, total - rc.processing, max(total, 1), f"batch {status}")
        if status == "ended":
            return b
        if time.monotonic() - start > timeout:
            raise StratLabError(f"batch {batch_id} did not end within {timeout:g} s "
                                "(client.batch_timeout_seconds)")
        sleep(interval)


def _describe(exc: Exception) -> str:
    """A short, key-free reason: ``HTTP 501: message`` for an API status error."""
    code = getattr(exc, "status_code", None)
    if code is not None:
        detail = getattr(exc, "api_message", None) or type(exc).__name__
        return redact(f"HTTP {code}: {str(detail)[:160]}")
    return redact(f"{type(exc).__name__}: {str(exc)[:160]}")


def collect(client: ClaudeClient, job: BatchJob) -> dict[str, CallResult]:
    """Read the results of an ended batch; validate and settle each."""
    out: dict[str, CallResult] = {}
    missing = "missing from batch results"
    try:
        entries = list(client.sdk.messages.batches.results(job.batch_id))
    except Exception as exc:  # the results could not be fetched or read: none is answered
        entries = []
        missing = redact(f"batch results could not be read ({type(exc).__name__})")
    for entry in entries:
        b = job.items.get(entry.custom_id)
        if b is None:
            continue
        spec, model = b["spec"], b["model"]
        res = CallResult(prompt=b["item"].prompt, prompt_version=spec.version,
                         model_key=b["model_key"], model_id=model.id, provider="anthropic",
                         status="error", attempts=1)
        r = entry.result
        if r.type != "succeeded":
            res.error = f"batch request {r.type}"
            costs.settle(b["call_id"], spec=model, usage=costs.Usage(), status="error",
                         error=res.error, batch=True)
            out[entry.custom_id] = res
            continue
        usage, problems = costs.read_usage(getattr(r.message, "usage", None))
        text = redact(reply_text(r.message))
        try:
            res.output = parse_reply(text, spec.output, client.cfg, b["item"].ctx)
            res.status = "ok"
        except ValueError as exc:
            res.status, res.error = "invalid", str(exc)
        res.usage = usage
        res.cost_usd = costs.settle(b["call_id"], spec=model, usage=usage, status=res.status,
                                    error=res.error, batch=True, cfg=client.cfg,
                                    problems=problems, max_tokens=b["max_tokens"],
                                    input_bound=b["input_bound"])
        if res.status == "invalid":  # one repair round, as for a single call (not batched)
            item = b["item"]
            try:
                fixed = client.repair(item.prompt, item.ctx, model_key=b["model_key"],
                                      reply=text, error=res.error)
            except costs.BudgetExceeded as exc:  # settle the other results all the same
                res.error = f"{res.error}; not repaired: {exc}"
                out[entry.custom_id] = res
                continue
            fixed.usage, fixed.cost_usd = fixed.usage + usage, fixed.cost_usd + res.cost_usd
            res = fixed
        out[entry.custom_id] = res
    for cid, b in job.items.items():  # requests the results did not mention
        if cid not in out:
            costs.settle(b["call_id"], spec=b["model"], usage=costs.Usage(), status="error",
                         error=missing, batch=True)
            out[cid] = CallResult(prompt=b["item"].prompt, prompt_version=b["spec"].version,
                                  model_key=b["model_key"], model_id=b["model"].id,
                                  provider="anthropic", status="error", error=missing)
    return out


def abandon(client: ClaudeClient, job: BatchJob, why: str) -> BatchFailed:
    """Cancel ``job`` (best effort), release its reservations, and return the error."""
    try:
        client.sdk.messages.batches.cancel(job.batch_id)
        cancelled = "cancelled"
    except Exception as exc:  # the API that failed the polls may refuse this too
        cancelled = f"could not be cancelled ({type(exc).__name__}; cancel it in the console)"
    _release(job.items, redact(f"batch abandoned: {why}"))
    ids = list(job.items)
    syms = sorted({b["item"].ctx.symbol for b in job.items.values()})
    return BatchFailed(redact(f"batch {job.batch_id} was abandoned and {cancelled}: {why}; "
                              f"its reservations were released; no batch answer for "
                              f"{', '.join(syms)}"), ids)


def run_batch(client: ClaudeClient, items: list[BatchItem], *,
              interval: float | None = None, timeout: float | None = None,
              sleep: Callable[[float], None] = time.sleep,
              on_progress: ProgressCallback | None = None) -> dict[str, CallResult]:
    """submit → poll → collect; a batch that cannot be polled to its end is abandoned
    (:func:`abandon`) and :class:`BatchFailed` raised."""
    job = submit(client, items)
    try:
        poll(client, job.batch_id, interval=interval, timeout=timeout, sleep=sleep,
             on_progress=on_progress)
    except StratLabError as exc:
        raise abandon(client, job, str(exc)) from None
    return collect(client, job)


__all__ = ["BatchFailed", "BatchItem", "BatchJob", "abandon", "collect", "poll", "run_batch",
           "safe_id", "submit"]
