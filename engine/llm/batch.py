"""Message Batches API: screen many symbols at half price — submit → poll → results.

:func:`submit` reserves every request's maximum cost at the batch price (in the cost
ledger, so batches respect the budgets too) and sends one batch; :func:`poll` waits until
``processing_status == "ended"`` (``batch_poll_seconds`` apart, at most
``batch_timeout_seconds``); :func:`collect` reads the JSONL results, validates each reply
and settles its reservation from its usage at the batch price. A request that errored or
expired yields no output (status ``error``); a reply that does not validate gets the same
one repair round as a single call (sent on its own, not batched), and if that fails too it
is ``invalid`` — nothing is invented. :func:`run_batch` does all three.
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
            call_id = costs.reserve(
                model_key=mkey, spec=model, prompt=it.prompt, prompt_version=spec.version,
                symbol=it.ctx.symbol, batch=True, cfg=client.cfg,
                max_cost_usd=client.reservation(params, model, batch=True))
            book[it.custom_id] = {"call_id": call_id, "spec": spec, "model_key": mkey,
                                  "model": model, "item": it}
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
         on_progress: ProgressCallback | None = None) -> Any:
    """Wait until the batch has ended; return the final batch object."""
    interval = client.cfg.client.batch_poll_seconds if interval is None else interval
    timeout = client.cfg.client.batch_timeout_seconds if timeout is None else timeout
    start = time.monotonic()
    while True:
        b = client.sdk.messages.batches.retrieve(batch_id)
        rc = b.request_counts
        total = rc.processing + rc.succeeded + rc.errored + rc.canceled + rc.expired
        report(on_progress, total - rc.processing, max(total, 1),
               f"batch {b.processing_status}")
        if b.processing_status == "ended":
            return b
        if time.monotonic() - start > timeout:
            raise StratLabError(f"batch {batch_id} did not end within {timeout:g} s; its "
                                "results can still be collected later")
        sleep(interval)


def collect(client: ClaudeClient, job: BatchJob) -> dict[str, CallResult]:
    """Read the results of an ended batch; validate and settle each."""
    out: dict[str, CallResult] = {}
    for entry in client.sdk.messages.batches.results(job.batch_id):
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
        usage = costs.Usage.from_api(r.message.usage)
        text = reply_text(r.message)
        try:
            res.output = parse_reply(text, spec.output, client.cfg)
            res.status = "ok"
        except ValueError as exc:
            res.status, res.error = "invalid", str(exc)
        res.usage = usage
        res.cost_usd = costs.settle(b["call_id"], spec=model, usage=usage, status=res.status,
                                    error=res.error, batch=True, cfg=client.cfg)
        if res.status == "invalid":  # one repair round, as for a single call (not batched)
            item = b["item"]
            fixed = client.repair(item.prompt, item.ctx, model_key=b["model_key"], reply=text,
                                  error=res.error)
            fixed.usage, fixed.cost_usd = fixed.usage + usage, fixed.cost_usd + res.cost_usd
            res = fixed
        out[entry.custom_id] = res
    for cid, b in job.items.items():  # requests the results did not mention
        if cid not in out:
            costs.settle(b["call_id"], spec=b["model"], usage=costs.Usage(), status="error",
                         error="missing from batch results", batch=True)
            out[cid] = CallResult(prompt=b["item"].prompt, prompt_version=b["spec"].version,
                                  model_key=b["model_key"], model_id=b["model"].id,
                                  provider="anthropic", status="error",
                                  error="missing from batch results")
    return out


def run_batch(client: ClaudeClient, items: list[BatchItem], *,
              interval: float | None = None, timeout: float | None = None,
              sleep: Callable[[float], None] = time.sleep,
              on_progress: ProgressCallback | None = None) -> dict[str, CallResult]:
    """submit → poll → collect."""
    job = submit(client, items)
    poll(client, job.batch_id, interval=interval, timeout=timeout, sleep=sleep,
         on_progress=on_progress)
    return collect(client, job)


__all__ = ["BatchItem", "BatchJob", "collect", "poll", "run_batch", "safe_id", "submit"]
