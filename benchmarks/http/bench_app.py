"""The product app plus one trivial endpoint, for the HTTP benchmark only.

``/bench/trivial`` parses the same JSON body as ``POST /api/v1/decisions`` and answers a constant:
it measures what FastAPI, uvicorn and Accord's middleware cost per request, so the decision
endpoint can be compared with it in the same server process. The product app never mounts it.

Run by ``run.py`` as ``uvicorn --factory bench_app:create --app-dir benchmarks/http`` (settings
from ``ACCORD_*``).
"""

from __future__ import annotations

from typing import Any

from fastapi import Body, FastAPI

from accord.web.app import create_app


def create() -> FastAPI:
    """The product app with ``POST /bench/trivial`` added."""
    app = create_app()

    @app.post("/bench/trivial", include_in_schema=False)
    async def trivial(body: dict[str, Any] = Body(...)) -> dict[str, Any]:
        return {"ok": True, "keys": len(body)}

    return app
