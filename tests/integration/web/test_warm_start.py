"""``ACCORD_WARM_START`` (set by ``accord serve`` for its workers): the packs are compiled before
the first request, and the startup heap is kept out of the garbage collector's scans while the
app runs."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

from accord.settings import Settings
from accord.web.app import create_app


def _lifespan(app: Any, inside: Any) -> None:
    async def run() -> None:
        async with app.router.lifespan_context(app):
            inside()

    asyncio.run(run())


def test_a_warm_start_compiles_the_packs_and_freezes_the_startup_heap(
    settings: Any, service: Any
) -> None:
    app = create_app(settings.with_(warm_start=True), service=service)
    seen: dict[str, Any] = {}

    def inside() -> None:
        seen["frozen"] = gc.get_freeze_count()
        seen["engine"] = service._engine

    assert gc.get_freeze_count() == 0
    _lifespan(app, inside)
    assert seen["frozen"] > 0
    assert seen["engine"] is not None  # compiled before any request
    assert gc.get_freeze_count() == 0  # given back to the collector when the app stops


def test_without_it_nothing_is_compiled_or_frozen_up_front(settings: Any, service: Any) -> None:
    app = create_app(settings, service=service)
    seen: dict[str, Any] = {}

    def inside() -> None:
        seen["frozen"] = gc.get_freeze_count()
        seen["engine"] = service._engine

    _lifespan(app, inside)
    assert seen == {"frozen": 0, "engine": None}


def test_the_setting_comes_from_the_environment() -> None:
    assert Settings.from_env({"ACCORD_WARM_START": "1"}).warm_start is True
    assert Settings.from_env({}).warm_start is False
