"""Refuse an oversized upload from its Content-Length, before the body is read."""

from __future__ import annotations

import json

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
