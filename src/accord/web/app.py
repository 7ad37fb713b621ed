"""The FastAPI application factory: ``create_app(settings)``.

Layers, outermost first: metrics → body-size limit → the decision fast path
(:mod:`accord.web.fastpath`) → signed session cookie → routes. Routes are
``/api/v1/...`` (JSON, problem+json errors), ``/log/...`` (tlog-tiles), ``/healthz``, ``/metrics``,
and the HTML pages of :mod:`accord.web.pages` when that module is present (with ``/static``).
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.openapi.utils import get_openapi
from fastapi.responses import PlainTextResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from starlette.middleware.sessions import SessionMiddleware

from accord import __version__
from accord.service import Service
from accord.settings import Settings
from accord.web import problems
from accord.web.api import accounts, decisions, log, packs, stats
from accord.web.auth import get_service
from accord.web.fastpath import DecisionFastPath
from accord.web.limits import BodyLimitMiddleware
from accord.web.metrics import Metrics, MetricsMiddleware
from accord.web.recording import LocalRecorder, Recorder

API_PREFIX = "/api/v1"
SESSION_COOKIE = "accord_session"
STATIC_DIR = Path(__file__).parent / "static"


class Health(BaseModel):
    """Liveness and readiness."""

    status: str
    version: str
    log_size: int


def _api_router() -> APIRouter:
    api = APIRouter(prefix=API_PREFIX)
    api.include_router(decisions.router)
    api.include_router(packs.build_router(None))
    api.include_router(packs.build_router("agreement"))
    api.include_router(log.router)
    api.include_router(stats.router)
    api.include_router(accounts.router)
    return api


def _pages_router() -> APIRouter | None:
    """``accord.web.pages.router`` when the HTML pages module is installed."""
    if importlib.util.find_spec("accord.web.pages") is None:
        return None
    module = importlib.import_module("accord.web.pages")
    router = getattr(module, "router", None)
    return router if isinstance(router, APIRouter) else None


def _with_transfer_schema(spec: dict[str, Any]) -> dict[str, Any]:
    """Document the transfer document's JSON Schema (and a bearer security scheme) in OpenAPI."""
    from accord.policy.transfer import Transfer
    from accord.web.api.models import DecisionRequest

    schema = Transfer.model_json_schema(ref_template="#/components/schemas/{model}")
    components = spec.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name, definition in schema.pop("$defs", {}).items():
        schemas.setdefault(name, definition)
    schemas["Transfer"] = schema
    schemas.setdefault(
        "DecisionRequest",
        DecisionRequest.model_json_schema(ref_template="#/components/schemas/{model}"),
    )
    request = schemas.get("DecisionRequest", {}).get("properties", {})
    if "transfer" in request:
        description = request["transfer"].get("description")
        request["transfer"] = {"$ref": "#/components/schemas/Transfer"}
        if description:
            request["transfer"] = {"allOf": [request["transfer"]], "description": description}
    components.setdefault("securitySchemes", {})["bearer"] = {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token (`accord tokens create`).",
    }
    return spec


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    if settings.warm_start:
        service: Service = app.state.service
        await run_in_threadpool(service.warm_up)
        gc.collect()
        gc.freeze()  # what startup built lives as long as the process: keep it out of collections
    try:
        yield
    finally:
        if settings.warm_start:
            gc.unfreeze()
    recorder: Recorder | None = getattr(app.state, "recorder", None)
    if recorder is not None:
        await recorder.aclose()


def create_app(settings: Settings | None = None, *, service: Service | None = None) -> FastAPI:
    """Build the app: migrate the database, store the shipped packs, bootstrap the admin token."""
    settings = settings or Settings.from_env()
    service = service or Service(settings)
    service.ensure_shipped_packs()
    if settings.admin_token:
        service.ensure_admin_token(settings.admin_token, email=settings.admin_email)

    app = FastAPI(
        title="Accord",
        version=__version__,
        description=(
            "Decide cross-border data transfers against rule packs and agreements; every decision "
            "is recorded in a tamper-evident RFC 6962 transparency log. Errors are RFC 9457 "
            "problem documents. Authenticate with `Authorization: Bearer <token>`."
        ),
        openapi_url="/openapi.json",
        lifespan=_lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.service = service
    app.state.settings = settings
    recorder: Recorder
    if settings.sequencer_socket:
        from accord.sequencer.client import RemoteRecorder

        recorder = RemoteRecorder(settings.sequencer_socket, service)
    else:
        recorder = LocalRecorder(service)
    app.state.recorder = recorder
    metrics = Metrics()
    app.state.metrics = metrics
    problems.install(app)

    app.include_router(_api_router())
    app.include_router(log.tiles_router)

    @app.get(
        "/healthz",
        response_model=Health,
        tags=["ops"],
        summary="Health check",
        responses=problems.responses(503),
    )
    async def healthz(svc: Service = Depends(get_service)) -> dict[str, Any]:
        size = await run_in_threadpool(svc.ledger.size)
        return {"status": "ok", "version": __version__, "log_size": size}

    @app.get(
        "/metrics",
        response_class=PlainTextResponse,
        tags=["ops"],
        summary="Prometheus metrics",
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    )
    async def metrics_endpoint(svc: Service = Depends(get_service)) -> PlainTextResponse:
        size = await run_in_threadpool(svc.ledger.size)
        return PlainTextResponse(
            metrics.render({"accord_log_size": float(size)}, dict(svc.recorded)),
            media_type="text/plain; version=0.0.4; charset=utf-8",
        )

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _with_transfer_schema(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    description=app.description,
                    routes=app.routes,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    pages = _pages_router()
    if pages is not None:
        app.include_router(pages)
    elif STATIC_DIR.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie=SESSION_COOKIE,
        max_age=settings.session_max_age,
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    app.add_middleware(DecisionFastPath, service=service, recorder=recorder)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    return app
