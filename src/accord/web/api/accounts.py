"""``/api/v1/me``, ``/orgs``, ``/users``, ``/tokens``: who am I, and account management."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.concurrency import run_in_threadpool

from accord.service import CAPABILITIES, Principal, Service
from accord.storage.accounts import parse_role
from accord.web.api.models import (
    Me,
    OrgIn,
    OrgOut,
    RoleChange,
    SessionOut,
    SignIn,
    TokenCreated,
    TokenIn,
    TokenOut,
    UserIn,
    UserOut,
)
from accord.web.auth import csrf_token, current_principal, get_service, sign_in, sign_out
from accord.web.problems import responses

router = APIRouter(tags=["accounts"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get(
    "/me",
    response_model=Me,
    summary="The caller: role, organisation, capabilities",
    responses=responses(401, 503),
)
async def me(principal: Principal = Depends(current_principal)) -> dict[str, Any]:
    """Anonymous callers get `authenticated: false`."""
    return _me(principal)


@router.post(
    "/session",
    response_model=SessionOut,
    summary="Sign in (sets the session cookie)",
    responses=responses(403, 413, 422, 503),
)
async def create_session(body: SignIn, request: Request) -> dict[str, Any]:
    """Checks the password (argon2) and starts a signed-cookie session. Writes made with the
    session must carry the returned `csrf_token` in the `X-CSRF-Token` header."""
    principal = await run_in_threadpool(sign_in, request, body.email, body.password)
    return {"csrf_token": csrf_token(request), "me": _me(principal)}


@router.post(
    "/session/sign-out",
    status_code=204,
    response_class=Response,
    summary="Sign out (ends the session)",
    responses=responses(403, 503),
)
async def delete_session(
    request: Request, principal: Principal = Depends(current_principal)
) -> Response:
    """Needs the CSRF header when signed in with the session."""
    del principal  # resolved for its CSRF check
    sign_out(request)
    return Response(status_code=204)


def _me(principal: Principal) -> dict[str, Any]:
    caps = (
        sorted(c.value for c in CAPABILITIES[principal.role] if principal.can(c))
        if principal.role
        else []
    )
    return {
        "authenticated": not principal.is_anonymous,
        "user_id": principal.user_id,
        "email": principal.email,
        "role": principal.role.value if principal.role else None,
        "org_id": principal.org_id,
        "via": principal.via,
        "scopes": sorted(principal.scopes),
        "capabilities": caps,
    }


@router.get(
    "/orgs",
    response_model=list[OrgOut],
    summary="Organisations",
    responses=responses(401, 403, 503),
)
async def list_orgs(
    principal: Principal = Depends(current_principal), service: Service = Depends(get_service)
) -> list[dict[str, Any]]:
    """All organisations (members: their own)."""
    return await run_in_threadpool(service.list_orgs, principal)


@router.post(
    "/orgs",
    response_model=OrgOut,
    status_code=201,
    summary="Add an organisation",
    responses=responses(401, 403, 409, 413, 422, 503),
)
async def create_org(
    body: OrgIn,
    principal: Principal = Depends(current_principal),
    service: Service = Depends(get_service),
) -> dict[str, Any]:
    """Admins only."""
    return await run_in_threadpool(
        lambda: service.create_org(principal, name=body.name, country=body.country)
    )


@router.get(
    "/users", response_model=list[UserOut], summary="Users", responses=responses(401, 403, 503)
)
async def list_users(
    principal: Principal = Depends(current_principal), service: Service = Depends(get_service)
) -> list[dict[str, Any]]:
    """Admins and auditors."""
    return await run_in_threadpool(service.list_users, principal)


@router.post(
    "/users",
    response_model=UserOut,
    status_code=201,
    summary="Add a user",
    responses=responses(401, 403, 404, 409, 413, 422, 503),
)
async def create_user(
    body: UserIn,
    principal: Principal = Depends(current_principal),
    service: Service = Depends(get_service),
) -> dict[str, Any]:
    """Admins only. Members need `org_id`."""
    principal.require(*_manage())
    role = parse_role(body.role, path="body.role")
    return await run_in_threadpool(
        lambda: service.create_user(
            principal, email=body.email, role=role, org=body.org_id, password=body.password
        )
    )


@router.post(
    "/users/{user_id}/role",
    response_model=UserOut,
    summary="Change a user's role",
    responses=responses(401, 403, 404, 413, 422, 503),
)
async def set_role(
    user_id: Id,
    body: RoleChange,
    principal: Principal = Depends(current_principal),
    service: Service = Depends(get_service),
) -> dict[str, Any]:
    """Admins only."""
    principal.require(*_manage())
    role = parse_role(body.role, path="body.role")
    return await run_in_threadpool(service.set_role, principal, user_id, role)


@router.get(
    "/tokens",
    response_model=list[TokenOut],
    summary="The caller's API tokens",
    responses=responses(401, 403, 503),
)
async def list_tokens(
    principal: Principal = Depends(current_principal), service: Service = Depends(get_service)
) -> list[dict[str, Any]]:
    """Never the secrets: only their prefixes."""
    return await run_in_threadpool(service.list_tokens, principal)


@router.post(
    "/tokens",
    response_model=TokenCreated,
    status_code=201,
    summary="Create an API token (the secret is shown once)",
    responses=responses(401, 403, 404, 413, 422, 503),
)
async def create_token(
    body: TokenIn,
    principal: Principal = Depends(current_principal),
    service: Service = Depends(get_service),
) -> dict[str, Any]:
    """For oneself; admins may create one for another user with `user_id`."""
    view, secret = await run_in_threadpool(
        lambda: service.issue_token(
            principal, user=body.user_id, name=body.name, scopes=tuple(body.scopes)
        )
    )
    return view | {"token": secret}


@router.post(
    "/tokens/{token_id}/revoke",
    response_model=TokenOut,
    summary="Revoke an API token",
    responses=responses(401, 403, 404, 503),
)
async def revoke_token(
    token_id: Id,
    principal: Principal = Depends(current_principal),
    service: Service = Depends(get_service),
) -> dict[str, Any]:
    """One's own tokens; admins any."""
    return await run_in_threadpool(service.revoke_token, principal, token_id)


def _manage() -> tuple[Any, ...]:
    from accord.service import Capability

    return (Capability.MANAGE_ACCOUNTS,)
