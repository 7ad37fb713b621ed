"""``/api/v1/stats``: aggregate figures for the public."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool

from accord.service import Service
from accord.web.api.models import Stats
from accord.web.auth import get_service
from accord.web.problems import responses

router = APIRouter(tags=["stats"])


@router.get(
    "/stats", response_model=Stats, summary="Aggregate figures (public)", responses=responses(503)
)
async def stats(service: Service = Depends(get_service)) -> dict[str, Any]:
    """Counts of decisions by outcome and by pack, organisations, packs by status, log size."""
    return await run_in_threadpool(service.stats)
