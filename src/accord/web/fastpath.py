"""The hot path of ``POST /api/v1/decisions``, in front of the router.

Most decision requests come from systems holding an API token that was checked a moment ago.
For those, routing, dependency resolution and response-model handling are pure overhead: the
answer is the recorder's bytes (:mod:`accord.web.recording`). This middleware answers exactly
those requests — the method and path of the endpoint, a bearer token the service authenticated
less than ``TOKEN_CACHE_SECONDS`` ago (:meth:`accord.service.Service.cached_principal`) whose
holder may submit — and passes everything else to the app unchanged: no token, a session cookie,
an unknown, revoked, expired or not-yet-cached token, a caller without the right. So every
refusal of the caller and every side effect of authentication (token last-use updates, CSRF
checks) stays where it is, in the route; for the requests taken here — bad bodies included — the
answer is byte for byte the route's, made by the same recorder.
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from accord.service import Capability, Service
from accord.web.recording import Recorder

__all__ = ["DECISIONS_PATH", "ROUTE_KEY", "DecisionFastPath"]

DECISIONS_PATH = "/api/v1/decisions"
#: Scope key naming the route template of a request answered here (for the metrics).
ROUTE_KEY = "accord.route"
_AUTHORIZATION = b"authorization"


def _bearer(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == _AUTHORIZATION:
            scheme, _, token = value.decode("latin-1").partition(" ")
            token = token.strip()
            return token if scheme.lower() == "bearer" and token else None
    return None


class DecisionFastPath:
    """ASGI middleware: answer cached-token decision requests straight from the recorder."""

    def __init__(self, app: ASGIApp, service: Service, recorder: Recorder) -> None:
        self.app = app
        self.service = service
        self.recorder = recorder
        #: Requests answered here (the rest went to the app).
        self.answered = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or scope["path"] != DECISIONS_PATH
            or scope.get("query_string")
        ):
            await self.app(scope, receive, send)
            return
        token = _bearer(scope)
        principal = None if token is None else self.service.cached_principal(token)
        if principal is None or not principal.can(Capability.SUBMIT):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        scope[ROUTE_KEY] = DECISIONS_PATH
        self.answered += 1
        result = await self.recorder.decide(principal, b"".join(chunks))
        headers: list[tuple[bytes, bytes]] = [
            (b"content-type", result.media_type.encode()),
            (b"content-length", str(len(result.body)).encode()),
        ]
        extra: dict[str, Any] = result.headers or {}
        headers += [(k.lower().encode(), str(v).encode()) for k, v in extra.items()]
        await send({"type": "http.response.start", "status": result.status, "headers": headers})
        await send({"type": "http.response.body", "body": result.body})
