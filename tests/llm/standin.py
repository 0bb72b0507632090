"""A loopback stand-in of the Anthropic Messages API: a threaded ``http.server`` on
127.0.0.1 (a free port) that the real SDK talks to over real HTTP.

Each endpoint has a script of replies, consumed in order (the last one repeats):

- ``messages`` — ``POST /v1/messages``;
- ``batch_polls`` — ``GET /v1/messages/batches/<id>``;
- ``POST /v1/messages/batches`` creates a batch (``batch_create``), ``…/cancel`` records a
  cancel, ``…/results`` returns ``batch_results`` (JSONL) for the created requests.

A reply is a :class:`Reply` (status, headers, raw body; ``cut_at`` sends a Content-Length
for the whole body but only its first bytes, then closes) or a callable(body) -> Reply.
Every request is kept in ``requests`` as ``(method, path, parsed JSON body or None)``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    cut_at: int | None = None  # send only this many bytes of a longer declared body
    delay: float = 0.0  # seconds before answering (a slow server)


def json_reply(obj: Any, status: int = 200, **kw: Any) -> Reply:
    return Reply(status=status, body=json.dumps(obj).encode(), **kw)


def api_error(status: int, message: str = "boom", **kw: Any) -> Reply:
    kind = {429: "rate_limit_error", 529: "overloaded_error",
            501: "api_error"}.get(status, "api_error")
    return json_reply({"type": "error", "error": {"type": kind, "message": message}},
                      status=status, **kw)


def message(text: str, *, usage: dict[str, Any] | None = None,
            model: str = "claude-sonnet-5-5") -> dict[str, Any]:
    """A Messages API message whose one text block is ``text``."""
    return {"id": "msg_standin", "type": "message", "role": "assistant", "model": model,
            "content": [{"type": "text", "text": text}], "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": usage if usage is not None else {
                "input_tokens": 1000, "output_tokens": 200,
                "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}}


_COUNTS = {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}


def batch_doc(status: str = "in_progress", n: int = 1, **counts: int) -> dict[str, Any]:
    return {"id": "msgbatch_standin", "type": "message_batch",
            "created_at": "2026-01-01T00:00:00Z", "expires_at": "2026-01-02T00:00:00Z",
            "archived_at": None, "cancel_initiated_at": None,
            "ended_at": None if status != "ended" else "2026-01-01T01:00:00Z",
            "results_url": None, "processing_status": status,
            "request_counts": {**_COUNTS, **(counts or {"processing": n})}}


Script = list[Reply | Callable[[Any], Reply]]


class StandIn:
    """The server; use as a context manager, point the SDK at :attr:`url`."""

    def __init__(self) -> None:
        self.messages: Script = [json_reply(message("{}"))]
        self.batch_polls: Script = [json_reply(batch_doc())]
        self.batch_results: dict[int, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, Any]] = []
        self.created: dict[str, Any] | None = None
        self.cancelled = 0
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _body(self) -> Any:
                n = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(n) if n else b""
                try:
                    return json.loads(raw) if raw else None
                except ValueError:
                    return None

            def do_GET(self) -> None:  # noqa: N802 (http.server's names)
                outer._serve(self, "GET", None)

            def do_POST(self) -> None:  # noqa: N802
                outer._serve(self, "POST", self._body())

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> StandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()

    def message_posts(self) -> list[Any]:
        """Bodies of the ``POST /v1/messages`` requests, in order."""
        return [b for m, p, b in self.requests if m == "POST" and p == "/v1/messages"]

    @staticmethod
    def _next(script: Script, body: Any) -> Reply:
        r = script.pop(0) if len(script) > 1 else script[0]
        return r(body) if callable(r) else r

    def _serve(self, h: BaseHTTPRequestHandler, method: str, body: Any) -> None:
        path = h.path.split("?", 1)[0]
        with self._lock:
            self.requests.append((method, path, body))
            if method == "POST" and path == "/v1/messages":
                reply = self._next(self.messages, body)
            elif method == "POST" and path == "/v1/messages/batches":
                self.created = body
                reply = json_reply(batch_doc(n=len(body["requests"])))
            elif method == "POST" and path.endswith("/cancel"):
                self.cancelled += 1
                reply = json_reply(batch_doc("canceling"))
            elif method == "GET" and path.endswith("/results"):
                reply = self._results()
            elif method == "GET" and path.startswith("/v1/messages/batches/"):
                reply = self._with_results_url(self._next(self.batch_polls, body), path)
            else:
                reply = api_error(404, f"no route {method} {path}")
        if reply.delay:
            time.sleep(reply.delay)
        self._write(h, reply)

    def _with_results_url(self, r: Reply, path: str) -> Reply:
        """An ended batch points at this server's results endpoint."""
        try:
            doc = json.loads(r.body)
        except ValueError:
            return r
        if isinstance(doc, dict) and doc.get("processing_status") == "ended":
            doc["results_url"] = f"{self.url}{path}/results"
            return Reply(status=r.status, body=json.dumps(doc).encode(), headers=r.headers)
        return r

    def _results(self) -> Reply:
        lines = []
        for i, req in enumerate((self.created or {}).get("requests", [])):
            if i in self.batch_results:
                result = {"type": "succeeded", "message": self.batch_results[i]}
            else:
                result = {"type": "errored", "error": {"type": "error", "error": {
                    "type": "api_error", "message": "internal"}}}
            lines.append(json.dumps({"custom_id": req["custom_id"], "result": result}))
        return Reply(body="\n".join(lines).encode(), content_type="application/binary")

    @staticmethod
    def _write(h: BaseHTTPRequestHandler, r: Reply) -> None:
        try:
            h.send_response(r.status)
            h.send_header("content-type", r.content_type)
            h.send_header("content-length", str(len(r.body)))
            for k, v in r.headers.items():
                h.send_header(k, v)
            if r.cut_at is not None:
                h.send_header("connection", "close")
            h.end_headers()
            h.wfile.write(r.body if r.cut_at is None else r.body[:r.cut_at])
            h.wfile.flush()
            if r.cut_at is not None:
                h.close_connection = True
        except (BrokenPipeError, ConnectionResetError):  # the client gave up: fine
            pass
