"""The transparency log over HTTP.

``/api/v1/log/...`` answers JSON (checkpoint, proofs, entries, bundles); :data:`tiles_router` serves
the C2SP tlog-tiles layout (``/log/checkpoint``, ``/log/tile/<L>/<N>[.p/<W>]``,
``/log/tile/entries/<N>[.p/<W>]``) so any standard tiles client can read the log.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse, Response

from accord.errors import Diagnostic, NotFoundError
from accord.service import Service
from accord.web.api.models import (
    CheckpointOut,
    ConsistencyProofOut,
    InclusionProofOut,
    Receipt,
)
from accord.web.auth import get_service
from accord.web.problems import responses

router = APIRouter(prefix="/log", tags=["log"])
tiles_router = APIRouter(prefix="/log", tags=["tiles"])

Size = Annotated[int | None, Query(ge=0, le=2**48, description="tree size (default: current)")]


@router.get(
    "/checkpoint",
    response_model=CheckpointOut,
    summary="The latest signed checkpoint (public)",
    responses=responses(503),
)
async def checkpoint(service: Service = Depends(get_service)) -> dict[str, Any]:
    """The C2SP signed note, its parsed origin/size/root and the verifier key to check it."""
    return await run_in_threadpool(service.ledger.checkpoint)


@router.get(
    "/proof/inclusion",
    response_model=InclusionProofOut,
    summary="Inclusion proof of an entry (public)",
    responses=responses(404, 422, 503),
)
async def inclusion(
    index: Annotated[int, Query(ge=0, le=2**48)],
    size: Size = None,
    service: Service = Depends(get_service),
) -> dict[str, Any]:
    """The RFC 6962 audit path of entry `index` in the tree of `size` entries."""
    return await run_in_threadpool(service.ledger.inclusion, index, size)


@router.get(
    "/proof/consistency",
    response_model=ConsistencyProofOut,
    summary="Consistency proof between two tree sizes (public)",
    responses=responses(404, 422, 503),
)
async def consistency(
    old_size: Annotated[int, Query(alias="from", ge=0, le=2**48)],
    new_size: Annotated[int | None, Query(alias="to", ge=0, le=2**48)] = None,
    service: Service = Depends(get_service),
) -> dict[str, Any]:
    """The RFC 6962 proof that the tree of `from` entries is a prefix of the tree of `to`."""
    return await run_in_threadpool(service.ledger.consistency, old_size, new_size)


@router.get(
    "/bundle/{index}",
    response_model=Receipt,
    summary="Entry, inclusion proof and signed checkpoint in one document (public)",
    responses=responses(404, 422, 503),
)
async def bundle(
    index: Annotated[int, Path(ge=0, le=2**48)], service: Service = Depends(get_service)
) -> dict[str, Any]:
    """Everything needed to check entry `index` offline with the verifier key."""
    size = await run_in_threadpool(service.ledger.size)
    if index >= size:
        raise NotFoundError(
            "no such entry",
            [
                Diagnostic(
                    "index out of range", path="index", expected=f"0..{size - 1}", found=str(index)
                )
            ],
        )
    return await run_in_threadpool(service.ledger.receipt, index)


# ------------------------------------------------------------------------------ tlog-tiles

_N = re.compile(r"^(?:x\d{3}/)*\d{3}$")
_TILE_HEADERS = {"Cache-Control": "public, max-age=31536000, immutable"}


def _tile_index(path: str) -> tuple[int, int | None]:
    """Parse ``<N>[.p/<W>]`` with the tlog-tiles ``x``-prefixed 3-digit path elements."""
    width: int | None = None
    if ".p/" in path:
        path, _, w = path.partition(".p/")
        if not w.isdigit() or not 1 <= int(w) <= 255 or w != str(int(w)):
            raise NotFoundError("no such tile", [Diagnostic("bad partial width", found=w)])
        width = int(w)
    if not _N.match(path):
        raise NotFoundError(
            "no such tile",
            [Diagnostic("bad tile index", found=path, expected="e.g. 000 or x001/234")],
        )
    return int(path.replace("x", "").replace("/", "")), width


@tiles_router.get(
    "/checkpoint",
    response_class=PlainTextResponse,
    summary="tlog-tiles: the latest signed checkpoint note",
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}, **responses(503)},
)
async def tiles_checkpoint(service: Service = Depends(get_service)) -> PlainTextResponse:
    """The C2SP signed note, as a tiles client fetches it."""
    note = await run_in_threadpool(service.ledger.checkpoint_note)
    return PlainTextResponse(note, headers={"Cache-Control": "no-cache"})


@tiles_router.get(
    "/tile/entries/{path:path}",
    response_class=Response,
    summary="tlog-tiles: an entry bundle",
    responses={
        200: {
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            }
        },
        **responses(404, 503),
    },
)
async def entry_bundle(path: str, service: Service = Depends(get_service)) -> Response:
    """Entries ``N·256 …`` each prefixed with a 2-byte big-endian length."""
    index, width = _tile_index(path)
    data = await run_in_threadpool(service.ledger.entry_bundle, index, width or 256)
    return Response(data, media_type="application/octet-stream", headers=_TILE_HEADERS)


@tiles_router.get(
    "/tile/{level}/{path:path}",
    response_class=Response,
    summary="tlog-tiles: a hash tile",
    responses={
        200: {
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            }
        },
        **responses(404, 422, 503),
    },
)
async def hash_tile(
    level: Annotated[int, Path(ge=0, le=63)], path: str, service: Service = Depends(get_service)
) -> Response:
    """``width`` 32-byte hashes at height 8·level (256 unless a partial ``.p/<W>`` tile)."""
    index, width = _tile_index(path)
    data = await run_in_threadpool(service.ledger.tile, level, index, width or 256)
    return Response(data, media_type="application/octet-stream", headers=_TILE_HEADERS)
