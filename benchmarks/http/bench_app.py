"""The product app plus one trivial endpoint, for the HTTP benchmark only.

``/bench/trivial`` parses the same JSON body as ``POST /api/v1/decisions`` and answers a constant:
it measures what FastAPI, uvicorn and Accord's middleware cost per request, so the decision
endpoint can be compared with it in the same server process. The product app never mounts it.

``run.py`` serves it with ``python bench_app.py --port P --workers N``: the same server code as
``accord serve --workers N`` (:func:`accord.cli.service.serve_workers`; settings from
``ACCORD_*``), with ``bench_app:create`` as the app factory in every worker process.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from fastapi import Body, FastAPI

from accord.web.app import create_app


def create() -> FastAPI:
    """The product app with ``POST /bench/trivial`` added."""
    app = create_app()

    @app.post("/bench/trivial", include_in_schema=False)
    async def trivial(body: dict[str, Any] = Body(...)) -> dict[str, Any]:
        return {"ok": True, "keys": len(body)}

    # First in the routing table, so that routing costs it as little as it can cost any route
    # (appended last, FastAPI would try every other route first).
    routes = app.router.routes
    routes.insert(0, routes.pop())
    return app


def main(argv: list[str] | None = None) -> None:
    """Serve :func:`create` as ``accord serve`` serves the product app."""
    from accord.cli.service import prepare_workers, serve_workers
    from accord.settings import Settings

    parser = argparse.ArgumentParser(description="serve the benchmark app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--no-sequencer", action="store_true")
    parser.add_argument("--reserve-sequencer-cpu", action="store_true")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    os.environ.update(prepare_workers(settings))
    here = str(Path(__file__).resolve().parent)
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")]))
    sys.path.insert(0, here)
    serve_workers(
        "bench_app:create",
        host=args.host,
        port=args.port,
        workers=args.workers,
        sequencer=not args.no_sequencer,
        log_level="warning",
        access_log=False,
        reserve_sequencer_cpu=args.reserve_sequencer_cpu or settings.reserve_sequencer_cpu,
    )


if __name__ == "__main__":
    main()
