"""Request body size limit: larger bodies get a 413 problem before any route runs."""

from __future__ import annotations

import json

from accord.web.metrics import ASGIApp, Message, Receive, Scope, Send

_PROBLEM = "application/problem+json"


async def _problem(send: Send, status: int, title: str, detail: str, path: str) -> None:
    body = json.dumps(
        {
            "type": "urn:accord:problem:" + ("too-large" if status == 413 else "input"),
            "title": title,
            "status": status,
            "detail": detail,
            "errors": [{"message": detail, "path": path}],
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", _PROBLEM.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    """Buffers at most ``max_bytes`` of a request body; anything larger is refused with 413."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = None
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                declared = value
        if declared is not None:
            text = declared.decode("latin-1")
            if not text.isdigit():
                await _problem(
                    send,
                    400,
                    "Bad request",
                    "Content-Length is not a number",
                    "header:Content-Length",
                )
                return
            if int(text) > self.max_bytes:
                await _problem(
                    send,
                    413,
                    "Content too large",
                    f"the body exceeds {self.max_bytes} bytes",
                    "body",
                )
                return
        chunks: list[bytes] = []
        total = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([], message, receive), send)
                return
            chunk = message.get("body", b"")
            total += len(chunk)
            if total > self.max_bytes:
                await _problem(
                    send,
                    413,
                    "Content too large",
                    f"the body exceeds {self.max_bytes} bytes",
                    "body",
                )
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body: Message = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay([body], None, receive), send)


def _replay(queue: list[Message], pending: Message | None, receive: Receive) -> Receive:
    items = [*queue] + ([pending] if pending is not None else [])

    async def replay() -> Message:
        if items:
            return items.pop(0)
        return await receive()

    return replay
