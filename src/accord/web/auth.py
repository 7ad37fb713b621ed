"""Authentication and authorisation for the web app and the API.

Two ways in:

* **API tokens** — ``Authorization: Bearer acc_…``. Only the token's SHA-256 is stored.
* **Browser sessions** — a signed cookie (Starlette's ``SessionMiddleware``, itsdangerous) holding
  the user id and a CSRF token. Every state-changing request made with a session must carry the
  CSRF token (synchroniser-token pattern): HTML forms in a ``csrf_token`` field
  (:func:`require_csrf_form`), API calls in the ``X-CSRF-Token`` header (checked by
  :func:`current_principal`).

The public (no token, no session) is :data:`accord.service.ANONYMOUS`. Role and tenancy rules are in
:mod:`accord.service` (``Principal.require``); routes only pass the principal on.

Signatures the HTML pages use (stable)::

    get_service(request) -> Service
    current_principal(request) -> Principal                  # async dependency; anonymous allowed
    session_principal(request) -> Principal | None           # the signed-in user, or None
    csrf_token(request) -> str                               # for forms (creates one if needed)
    check_csrf(request, token: str | None) -> None           # raises PermissionDeniedError
    require_csrf_form(request) -> None                       # dependency for form posts
    sign_in(request, email, password) -> Principal           # raises PermissionDeniedError
    sign_out(request) -> None
"""

from __future__ import annotations

import hmac
import secrets
from typing import cast

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from accord.errors import Diagnostic, PermissionDeniedError
from accord.service import ANONYMOUS, Principal, Service

SESSION_USER = "uid"
SESSION_CSRF = "csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class AuthenticationError(PermissionDeniedError):
    """No valid credentials were presented (answered with 401, not 403)."""


def get_service(request: Request) -> Service:
    """The :class:`~accord.service.Service` of the running app."""
    return cast(Service, request.app.state.service)


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise AuthenticationError(
            "malformed Authorization header",
            [
                Diagnostic(
                    "not a bearer token",
                    path="header:Authorization",
                    expected="Bearer <token>",
                    found=scheme or "(empty)",
                )
            ],
        )
    return value.strip()


def session_principal(request: Request) -> Principal | None:
    """The user signed in through the session cookie, or ``None``."""
    if "session" not in request.scope:
        return None
    uid = request.session.get(SESSION_USER)
    if not isinstance(uid, int):
        return None
    principal = get_service(request).principal_for_user_id(uid)
    if principal is None:  # the user was removed or disabled: end the session
        request.session.clear()
    return principal


async def current_principal(request: Request) -> Principal:
    """Who is calling: a bearer token first, then the session cookie, else the public.

    A bad or revoked token is refused (401) rather than silently treated as anonymous. A
    state-changing request authenticated by the session must carry the CSRF header. A token
    authenticated in the last second is answered from memory (``Service.cached_principal``);
    anything needing the database runs in a worker thread.
    """
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        return cached
    raw = _bearer(request)
    if raw is not None:
        service = get_service(request)
        principal = service.cached_principal(raw)
        if principal is None:
            principal = await run_in_threadpool(service.authenticate_token, raw)
        if principal is None:
            raise AuthenticationError(
                "invalid or revoked token",
                [
                    Diagnostic(
                        "token not accepted",
                        path="header:Authorization",
                        hint="create a new token with `accord tokens create`",
                    )
                ],
            )
    else:
        principal = (await run_in_threadpool(session_principal, request)) or ANONYMOUS
        if principal.via == "session" and request.method not in SAFE_METHODS:
            check_csrf(request, request.headers.get(CSRF_HEADER))
    request.state.principal = principal
    return principal


async def service_dependency(request: Request) -> Service:
    """:func:`get_service` as a dependency FastAPI awaits on the event loop (a plain function
    dependency costs a worker-thread round trip per request)."""
    return get_service(request)


def csrf_token(request: Request) -> str:
    """The session's CSRF token (created on first use). Put it in every form as ``csrf_token``."""
    token = request.session.get(SESSION_CSRF)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[SESSION_CSRF] = token
    return token


def check_csrf(request: Request, token: str | None) -> None:
    """Refuse (403) unless ``token`` equals the session's CSRF token."""
    expected = request.session.get(SESSION_CSRF) if "session" in request.scope else None
    if not isinstance(expected, str) or not token or not hmac.compare_digest(expected, token):
        raise PermissionDeniedError(
            "missing or wrong CSRF token",
            [
                Diagnostic(
                    "CSRF check failed",
                    path=CSRF_FIELD,
                    hint="reload the page and submit the form again",
                )
            ],
        )


async def require_csrf_form(request: Request) -> None:
    """Dependency for HTML form posts: the form's ``csrf_token`` field must match the session."""
    form = await request.form()
    value = form.get(CSRF_FIELD)
    check_csrf(request, value if isinstance(value, str) else None)


def sign_in(request: Request, email: str, password: str) -> Principal:
    """Check the password and start a session (a fresh CSRF token too). 403 on failure."""
    principal = get_service(request).authenticate_password(email, password)
    if principal is None:
        raise PermissionDeniedError(
            "wrong email or password",
            [Diagnostic("sign-in refused", path="email", hint="check the email and password")],
        )
    request.session.clear()
    request.session[SESSION_USER] = principal.user_id
    request.session[SESSION_CSRF] = secrets.token_urlsafe(32)
    request.state.principal = principal
    return principal


def sign_out(request: Request) -> None:
    """End the session."""
    request.session.clear()
    request.state.principal = ANONYMOUS
