"""``/api/v1/decisions``: decide a transfer (recorded in the ledger), list and read decisions."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from accord.service import Capability, DecisionFilter, Principal, Service
from accord.web.api.models import DecisionDetail, DecisionPage
from accord.web.auth import current_principal, get_service
from accord.web.problems import responses
from accord.web.recording import Recorder

router = APIRouter(prefix="/decisions", tags=["decisions"])

Outcome = Literal["permit", "permit_with_obligations", "deny", "indeterminate"]
DecisionId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="decision id")]


@router.post(
    "",
    response_model=DecisionDetail,
    status_code=201,
    summary="Decide a transfer and record the decision in the ledger",
    responses=responses(401, 403, 413, 422, 503),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/DecisionRequest"}}
            },
        }
    },
)
async def create_decision(
    request: Request, principal: Principal = Depends(current_principal)
) -> Response:
    """Evaluate the transfer against the active packs, append the decision to the log and store it,
    in one transaction. The answer carries a receipt: leaf index, leaf hash, inclusion proof and a
    signed checkpoint that includes the leaf."""
    # Checked here so that callers who may not submit never reach the recorder; the body is
    # validated where the decision is made (this process, or the sequencer process).
    principal.require(Capability.SUBMIT)
    recorder: Recorder = request.app.state.recorder
    result = await recorder.decide(principal, await request.body())
    return Response(
        result.body,
        status_code=result.status,
        media_type=result.media_type,
        headers=result.headers,
    )


@router.get(
    "",
    response_model=DecisionPage,
    summary="List decisions the caller may see, newest first",
    responses=responses(401, 403, 422, 503),
)
async def list_decisions(
    outcome: Outcome | None = None,
    date_from: Annotated[date | None, Query(alias="from", description="as_of ≥ this day")] = None,
    date_to: Annotated[date | None, Query(alias="to", description="as_of ≤ this day")] = None,
    pack: Annotated[
        str | None, Query(pattern=r"^[a-z0-9-]{1,100}$", description="a pack that applied")
    ] = None,
    org: Annotated[
        int | None,
        Query(ge=1, le=2**31 - 1, description="organisation id (regulators, auditors, admins)"),
    ] = None,
    cursor: Annotated[str | None, Query(pattern=r"^[0-9]{1,18}$")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    principal: Principal = Depends(current_principal),
    service: Service = Depends(get_service),
) -> dict[str, Any]:
    """Filter by outcome, `as_of` date range, pack and (for those who read every organisation)
    organisation. Members see only their own organisation's decisions; the public none."""
    filters = DecisionFilter(
        outcome=outcome, date_from=date_from, date_to=date_to, pack=pack, org_id=org
    )
    items, next_cursor = await run_in_threadpool(
        service.list_decisions,
        principal,
        filters,
        cursor=int(cursor) if cursor is not None else None,
        limit=limit,
    )
    return {"items": items, "next_cursor": str(next_cursor) if next_cursor is not None else None}


@router.get(
    "/{decision_id}",
    response_model=DecisionDetail,
    summary="One decision with its transfer and ledger receipt",
    responses=responses(401, 403, 404, 422, 503),
)
async def get_decision(
    decision_id: DecisionId,
    principal: Principal = Depends(current_principal),
    service: Service = Depends(get_service),
) -> dict[str, Any]:
    """404 when the decision does not exist or belongs to another organisation."""
    return await run_in_threadpool(service.get_decision, principal, decision_id)
