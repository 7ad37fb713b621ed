"""``/api/v1/packs`` and ``/api/v1/agreements``: upload (validated), list, versions, lifecycle."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query
from fastapi.concurrency import run_in_threadpool

from accord.service import Principal, Service
from accord.storage.models import PackStatus
from accord.web.api.models import (
    PackDetail,
    PackEventOut,
    PackSummary,
    PackUpload,
    PackUploaded,
    StatusChange,
    VersionInfo,
)
from accord.web.auth import current_principal, get_service
from accord.web.problems import responses

PackId = Annotated[str, Path(pattern=r"^[a-z0-9-]{1,100}$", description="pack id")]
Status = Literal["draft", "active", "suspended", "expired"]


def build_router(kind: Literal["regulation", "agreement"] | None) -> APIRouter:
    """The routes for all packs (``kind=None``, at ``/packs``) or agreements only."""
    name = "packs" if kind is None else "agreements"
    router = APIRouter(prefix=f"/{name}", tags=[name])
    noun = "pack" if kind is None else "agreement"

    @router.get(
        "",
        response_model=list[PackSummary],
        summary=f"List {name} (public)",
        responses=responses(422, 503),
        operation_id=f"list_{name}",
    )
    async def list_(
        status: Status | None = None,
        service: Service = Depends(get_service),
    ) -> list[dict[str, Any]]:
        return await run_in_threadpool(service.list_packs, kind=kind, status=status)

    @router.post(
        "",
        response_model=PackUploaded,
        status_code=201,
        summary=f"Upload a {noun} (a new {noun} starts as a draft; an existing one gets a new "
        "version)",
        responses=responses(401, 403, 409, 413, 422, 503),
        operation_id=f"upload_{noun}",
    )
    async def upload(
        body: PackUpload,
        principal: Principal = Depends(current_principal),
        service: Service = Depends(get_service),
    ) -> dict[str, Any]:
        """Invalid packs are refused with 422 and every problem located as file:line:column."""
        source = body.filename or "upload.yaml"
        return await run_in_threadpool(_upload, service, principal, body.text, source, kind)

    @router.get(
        "/{pack_id}",
        response_model=PackDetail,
        summary=f"A {noun} with its text (the version in force, or `version`)",
        responses=responses(404, 422, 503),
        operation_id=f"get_{noun}",
    )
    async def get(
        pack_id: PackId,
        version: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
        service: Service = Depends(get_service),
    ) -> dict[str, Any]:
        view = await run_in_threadpool(service.get_pack, pack_id, version=version)
        _check_kind(view, kind)
        return view

    @router.get(
        "/{pack_id}/versions",
        response_model=list[VersionInfo],
        summary=f"Every version of a {noun}",
        responses=responses(404, 422, 503),
        operation_id=f"{noun}_versions",
    )
    async def versions(
        pack_id: PackId, service: Service = Depends(get_service)
    ) -> list[dict[str, Any]]:
        _check_kind(await run_in_threadpool(service.get_pack, pack_id), kind)
        return await run_in_threadpool(service.pack_versions, pack_id)

    @router.get(
        "/{pack_id}/history",
        response_model=list[PackEventOut],
        summary=f"Audit trail of a {noun}: who changed what, when",
        responses=responses(401, 403, 404, 422, 503),
        operation_id=f"{noun}_history",
    )
    async def history(
        pack_id: PackId,
        principal: Principal = Depends(current_principal),
        service: Service = Depends(get_service),
    ) -> list[dict[str, Any]]:
        _check_kind(await run_in_threadpool(service.get_pack, pack_id), kind)
        return await run_in_threadpool(service.pack_history, principal, pack_id)

    for action, status in (
        ("activate", PackStatus.ACTIVE),
        ("suspend", PackStatus.SUSPENDED),
        ("expire", PackStatus.EXPIRED),
    ):
        _add_transition(router, action, status, kind, noun)
    return router


def _check_kind(view: dict[str, Any], kind: str | None) -> None:
    if kind is not None and view.get("kind") != kind:
        from accord.errors import Diagnostic, NotFoundError

        raise NotFoundError(
            f"no {kind} {view.get('id')!r}",
            [Diagnostic(f"not a {kind}", path="pack_id", found=str(view.get("kind")))],
        )


def _upload(
    service: Service, principal: Principal, text: str, source: str, kind: str | None
) -> dict[str, Any]:
    if kind is not None:
        from accord.errors import Diagnostic, InputError
        from accord.service import _parse_pack

        principal.require(*_manage())
        parsed = _parse_pack(text, source=source)
        if str(parsed.meta.kind) != kind:
            raise InputError(
                f"not an {kind}",
                [
                    Diagnostic(
                        f"this endpoint takes {kind}s",
                        path="pack.kind",
                        expected=kind,
                        found=str(parsed.meta.kind),
                        hint="upload it to /api/v1/packs",
                    )
                ],
            )
    return service.upload_pack(principal, text, source=source)


def _manage() -> tuple[Any, ...]:
    from accord.service import Capability

    return (Capability.MANAGE_PACKS,)


def _add_transition(
    router: APIRouter, action: str, status: PackStatus, kind: str | None, noun: str
) -> None:
    async def transition(
        pack_id: PackId,
        body: Annotated[StatusChange | None, Body()] = None,
        principal: Principal = Depends(current_principal),
        service: Service = Depends(get_service),
    ) -> dict[str, Any]:
        principal.require(*_manage())
        _check_kind(await run_in_threadpool(service.get_pack, pack_id), kind)
        change = body or StatusChange()
        return await run_in_threadpool(
            service.set_pack_status,
            principal,
            pack_id,
            status,
            version=change.version,
            note=change.note,
        )

    router.add_api_route(
        f"/{{pack_id}}/{action}",
        transition,
        methods=["POST"],
        response_model=PackSummary,
        summary=f"{action.capitalize()} a {noun}",
        responses=responses(401, 403, 404, 409, 413, 422, 503),
        operation_id=f"{action}_{noun}",
        name=f"{action}_{noun}",
    )
