"""Hand-rolled Prometheus counters (text exposition format 0.0.4)."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Metrics:
    """Counters of requests and decisions, safe across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, str], int] = defaultdict(int)
        self.seconds: dict[tuple[str, str], float] = defaultdict(float)
        self.started = time.time()

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one request."""
        with self._lock:
            self.requests[(method, route, str(status))] += 1
            self.seconds[(method, route)] += seconds

    def render(
        self, extra: dict[str, float] | None = None, decisions: dict[str, int] | None = None
    ) -> str:
        """The exposition text."""
        lines = [
            "# HELP accord_http_requests_total HTTP requests by method, route and status.",
            "# TYPE accord_http_requests_total counter",
        ]
        with self._lock:
            for (method, route, status), n in sorted(self.requests.items()):
                lines.append(
                    f'accord_http_requests_total{{method="{_escape(method)}",'
                    f'route="{_escape(route)}",status="{status}"}} {n}'
                )
            lines += [
                "# HELP accord_http_request_seconds_total Time spent answering, by route.",
                "# TYPE accord_http_request_seconds_total counter",
            ]
            for (method, route), s in sorted(self.seconds.items()):
                lines.append(
                    f'accord_http_request_seconds_total{{method="{_escape(method)}",'
                    f'route="{_escape(route)}"}} {s:.6f}'
                )
            lines += [
                "# HELP accord_decisions_total Decisions recorded by this process, by outcome.",
                "# TYPE accord_decisions_total counter",
            ]
            for outcome, n in sorted((decisions or {}).items()):
                lines.append(f'accord_decisions_total{{outcome="{_escape(outcome)}"}} {n}')
        lines += [
            "# HELP accord_process_start_time_seconds Start time of the process.",
            "# TYPE accord_process_start_time_seconds gauge",
            f"accord_process_start_time_seconds {self.started:.3f}",
        ]
        for name, value in sorted((extra or {}).items()):
            lines += [f"# TYPE {name} gauge", f"{name} {value:g}"]
        return "\n".join(lines) + "\n"


class MetricsMiddleware:
    """Counts every HTTP request by its route template (not the raw path: bounded labels)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            template = scope.get("accord.route") or _template(
                scope.get("route"), str(scope.get("path", ""))
            )
            self.metrics.observe(
                scope.get("method", "?"), str(template), status, time.perf_counter() - start
            )


def _template(route: Any, path: str) -> str:
    """The full route template (``/api/v1/decisions/{decision_id}``) of the matched route.

    Routes inside included routers know only their own part; the static prefix is what precedes
    the part of the request path that the route's pattern matches.
    """
    fmt = getattr(route, "path_format", None)
    regex = getattr(route, "path_regex", None)
    if not isinstance(fmt, str) or regex is None:
        return "(unmatched)"
    for i, char in enumerate(path):
        if char == "/" and regex.match(path[i:]):
            return path[:i] + fmt
    return fmt
