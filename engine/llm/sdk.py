"""The ``anthropic`` SDK client with its retry waits capped and a deadline on a whole call.

The SDK retries 408/409/429/5xx and connection errors itself and sleeps as long as a
``retry-after`` header says — an hour, if a server asks. :func:`capped_sdk_class` keeps the
SDK's own retry loop and checks only the wait it computes: one longer than ``max_wait``
(``client.max_retry_wait_seconds``), or one that would pass the call's deadline
(``client.max_call_seconds``), raises :class:`CallTooSlow` instead of sleeping, and each
retry's request timeout is cut to the time left.
"""

from __future__ import annotations

import threading
import time
from typing import Any


class CallTooSlow(Exception):
    """Raised inside the SDK's retry loop: the wait it was asked for passes the cap, or the
    call's wall time would run out (the call then fails with this reason)."""


_sdk_class: Any = None


def capped_sdk_class() -> Any:
    """``anthropic.Anthropic`` whose retry waits are capped (``max_wait`` seconds) and whose
    retries stop at the call's deadline (``set_deadline``); each retry's request timeout is
    cut to the time left. The SDK's own retry loop is kept; only its wait is checked."""
    global _sdk_class
    if _sdk_class is not None:
        return _sdk_class
    import anthropic
    import httpx2

    class CappedAnthropic(anthropic.Anthropic):
        max_wait: float = 60.0
        _local = threading.local()

        def set_deadline(self, deadline: float | None) -> None:
            """``time.monotonic()`` by which this thread's call must end (None: no limit)."""
            self._local.deadline = deadline

        def _calculate_retry_timeout(self, remaining_retries: int, options: Any,
                                     response_headers: Any = None) -> float:
            wait = super()._calculate_retry_timeout(remaining_retries, options,
                                                    response_headers)
            if wait > self.max_wait + 1e-9:
                raise CallTooSlow(
                    f"the API asked to wait {wait:.0f} s before a retry (retry-after), longer "
                    f"than client.max_retry_wait_seconds {self.max_wait:g} s; try again later")
            deadline = getattr(self._local, "deadline", None)
            if deadline is not None:
                left = deadline - time.monotonic() - wait
                if left <= 0.05:
                    raise CallTooSlow(
                        f"a retry in {wait:.2g} s would pass client.max_call_seconds; "
                        "try again later")
                options.timeout = httpx2.Timeout(left, connect=min(left, 10.0))
            return wait

    _sdk_class = CappedAnthropic
    return _sdk_class


__all__ = ["CallTooSlow", "capped_sdk_class"]
