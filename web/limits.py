"""Request limits as ASGI middleware: upload size, per-client rate, the Gradio routes' gate.

Every refusal is the API's JSON error shape `{"error": {"code", "message"}}`.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import OrderedDict

from starlette.types import ASGIApp, Receive, Scope, Send

_SLACK = 64 * 1024  # multipart boundaries and the small form fields around the file


class UploadSizeLimit:
    """ASGI middleware: POSTs to `path` with a declared body over the limit get 413 at once.

    Bodies without a Content-Length (chunked) are still cut off by the endpoint as it copies.
    """

    def __init__(self, app: ASGIApp, path: str, max_bytes: int) -> None:
        self.app = app
        self.path = path
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] == "http" and scope["method"] == "POST"
                and scope["path"].rstrip("/").endswith(self.path)
                and self._declared(scope) > self.max_bytes + _SLACK):
            megabytes = self.max_bytes // (1024 * 1024)
            body = json.dumps({"error": {"code": "payload_too_large",
                                         "message": f"file larger than {megabytes} MB"}})
            await send({"type": "http.response.start", "status": 413,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"connection", b"close")]})
            await send({"type": "http.response.body", "body": body.encode()})
            return
        await self.app(scope, receive, send)

    @staticmethod
    def _declared(scope: Scope) -> int:
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    return int(value)
                except ValueError:
                    return 0
        return 0


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


async def _send_json(send: Send, status: int, code: str, message: str,
                     headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


class TokenBuckets:
    """One token bucket per client: `rate` tokens a second, at most `burst` saved up.

    Bounded memory: past `max_clients` the least recently seen client is forgotten (it
    starts again with a full bucket, which only ever errs towards serving).
    """

    def __init__(self, rate: float, burst: float, max_clients: int = 10_000) -> None:
        self.rate = rate
        self.burst = burst
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, client: str, cost: float = 1.0) -> float:
        """Take `cost` tokens; returns 0 when granted, else the seconds until it would be."""
        now = time.monotonic()
        with self._lock:
            tokens, seen = self._buckets.pop(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - seen) * self.rate)
            wait = 0.0
            if tokens >= cost:
                tokens -= cost
            else:
                wait = (cost - tokens) / self.rate if self.rate > 0 else 3600.0
            self._buckets[client] = (tokens, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
            return wait


class RateLimit:
    """ASGI middleware: requests under `prefix` beyond a client's bucket get 429 JSON."""

    def __init__(self, app: ASGIApp, prefix: str, rate: float, burst: int) -> None:
        self.app = app
        self.prefix = prefix
        self.buckets = TokenBuckets(rate, burst) if rate > 0 else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.buckets is not None and scope["type"] == "http" \
                and scope["path"].startswith(self.prefix):
            wait = self.buckets.take(_client(scope))
            if wait > 0:
                retry = str(max(1, math.ceil(wait)))
                await _send_json(send, 429, "rate_limited",
                                 f"too many requests from this address: retry in {retry} s",
                                 [(b"retry-after", retry.encode())])
                return
        await self.app(scope, receive, send)


GRADIO_PREFIX = "/gradio_api"
EVENT_BODY_BYTES = 256 * 1024


def _has_header(scope: Scope, wanted: bytes) -> bool:
    return any(name == wanted for name, _ in scope.get("headers", []))


class GradioGate:
    """ASGI middleware in front of the mounted Gradio app.

    - `dev/reload` (Gradio's hot-reload stream, meant for `gradio app.py` in development)
      is closed: 404.
    - Other POSTs (event payloads) must declare a length of at most EVENT_BODY_BYTES.
    - `upload` takes files without a key (the browser uploads a chosen file before the owner
      key is checked by the event), so it is bounded instead: a declared Content-Length is
      required (411), it may not exceed the upload limit (413), and each client may send at
      most `mb_per_hour` MB an hour (429). Gradio's own cache expiry removes the files.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, mb_per_hour: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        budget = mb_per_hour * 1024 * 1024
        self.budget = TokenBuckets(budget / 3600.0, budget) if budget else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(GRADIO_PREFIX):
            route = scope["path"][len(GRADIO_PREFIX):].rstrip("/")
            if route == "/dev/reload":
                await _send_json(send, 404, "not_found", "not found")
                return
            if scope["method"] == "POST":
                refusal = self._refuse_upload(scope) if route == "/upload" \
                    else self._refuse_event_body(scope)
                if refusal:
                    await _send_json(send, *refusal)
                    return
        await self.app(scope, receive, send)

    @staticmethod
    def _refuse_event_body(scope: Scope) -> tuple[int, str, str] | None:
        """Event payloads (queue/join and the like) are small JSON: a question is at most a
        few kB, so a body past EVENT_BODY_BYTES (or of unknown length) is not one."""
        declared = UploadSizeLimit._declared(scope)
        if declared <= 0 and not _has_header(scope, b"content-length"):
            return 411, "length_required", "requests must declare their Content-Length"
        if declared > EVENT_BODY_BYTES:
            return 413, "payload_too_large", "request body too large"
        return None

    def _refuse_upload(self, scope: Scope) -> tuple[int, str, str] | None:
        declared = UploadSizeLimit._declared(scope)
        if declared <= 0:
            return 411, "length_required", "uploads must declare their Content-Length"
        if declared > self.max_bytes + _SLACK:
            return (413, "payload_too_large",
                    f"file larger than {self.max_bytes // (1024 * 1024)} MB")
        if self.budget is not None and self.budget.take(_client(scope), declared) > 0:
            return (429, "rate_limited", "upload limit for this address reached: try again "
                    "later, or upload with the API and an owner key")
        return None
