"""Errors as RFC 9457 problem details (``application/problem+json``).

Every error response has ``type``, ``title``, ``status``, ``detail`` and ``errors``: one item per
problem, each naming the field (``path``, e.g. ``body.exporter.country``) or the file position
(``file``, ``line``, ``column``) with what was expected, what was found and a hint.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from accord.errors import (
    AccordError,
    ConflictError,
    Diagnostic,
    InputError,
    IntegrityError,
    NotFoundError,
    PermissionDeniedError,
    StorageError,
)

PROBLEM_JSON = "application/problem+json"
_log = logging.getLogger("accord.web")


class ProblemItem(BaseModel):
    """One located problem."""

    model_config = ConfigDict(extra="forbid")

    message: str
    path: str | None = None
    file: str | None = None
    line: int | None = None
    column: int | None = None
    expected: str | None = None
    found: str | None = None
    hint: str | None = None


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(description="URI identifying the kind of problem")
    title: str
    status: int
    detail: str
    errors: list[ProblemItem] = Field(default_factory=list)


def _type(code: str) -> str:
    return f"urn:accord:problem:{code}"


def problem_document(
    status: int,
    title: str,
    detail: str,
    *,
    code: str,
    errors: list[Diagnostic] | None = None,
) -> dict[str, Any]:
    """The problem document (a JSON object) for these details."""
    body = Problem(
        type=_type(code),
        title=title,
        status=status,
        detail=detail,
        errors=[ProblemItem(**d.to_dict()) for d in (errors or [])],
    )
    return body.model_dump(exclude_none=True)


def problem_response(
    status: int,
    title: str,
    detail: str,
    *,
    code: str,
    errors: list[Diagnostic] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A ``application/problem+json`` response."""
    return JSONResponse(
        problem_document(status, title, detail, code=code, errors=errors),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def status_for(exc: AccordError) -> tuple[int, str]:
    """HTTP status and title for an :class:`AccordError`."""
    from accord.web.auth import AuthenticationError

    if isinstance(exc, AuthenticationError):
        return 401, "Not authenticated"
    if isinstance(exc, PermissionDeniedError):
        return 403, "Forbidden"
    if isinstance(exc, NotFoundError):
        return 404, "Not found"
    if isinstance(exc, ConflictError):
        return 409, "Conflict"
    if isinstance(exc, InputError):
        return 422, "Invalid input"
    if isinstance(exc, IntegrityError):
        return 500, "Integrity failure"
    if isinstance(exc, StorageError):
        return 503, "Storage unavailable"
    return 500, "Error"


def _loc_path(loc: tuple[Any, ...] | list[Any]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)


_EXPECTED = {
    "missing": "a value",
    "extra_forbidden": "no such field (remove it)",
    "json_invalid": "well-formed JSON",
    "model_attributes_type": "a JSON object",
    "dict_type": "a JSON object",
    "string_type": "a string",
    "int_parsing": "an integer",
    "int_type": "an integer",
    "bool_type": "true or false",
    "list_type": "a list",
    "date_from_datetime_parsing": "a date YYYY-MM-DD",
    "date_parsing": "a date YYYY-MM-DD",
    "date_type": "a date YYYY-MM-DD",
    "literal_error": "one of the listed values",
    "enum": "one of the listed values",
    "greater_than_equal": "a larger number",
    "less_than_equal": "a smaller number",
    "string_too_short": "a longer string",
    "string_too_long": "a shorter string",
    "string_pattern_mismatch": "text matching the pattern",
}


def _validation_diagnostics(exc: RequestValidationError) -> list[Diagnostic]:
    return validation_diagnostics(exc.errors())


def validation_diagnostics(
    errors: Sequence[Mapping[str, Any]], *, prefix: tuple[Any, ...] = ()
) -> list[Diagnostic]:
    """Diagnostics naming each field of pydantic validation ``errors`` (``prefix`` goes before
    each error's location, e.g. ``("body",)``)."""
    out: list[Diagnostic] = []
    for err in errors:
        loc = prefix + tuple(err.get("loc", ()))
        kind = str(err.get("type", ""))
        found = err.get("input")
        text = repr(found)
        if kind == "json_invalid":
            position = loc[1] if len(loc) > 1 else None
            reason = (err.get("ctx") or {}).get("error", "")
            out.append(
                Diagnostic(
                    f"malformed JSON{': ' + str(reason) if reason else ''}",
                    path="body",
                    expected=_EXPECTED[kind],
                    found=f"an error at character {position}" if position is not None else None,
                    hint="check quotes, commas and brackets",
                )
            )
            continue
        out.append(
            Diagnostic(
                str(err.get("msg", "invalid")),
                path=_loc_path(loc) or None,
                expected=_EXPECTED.get(kind, kind or None),
                found=text if len(text) <= 200 else text[:197] + "...",
            )
        )
    return out


def install(app: FastAPI) -> None:
    """Register the exception handlers that turn every error into a problem document."""

    async def accord_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AccordError)
        status, title = status_for(exc)
        principal = getattr(request.state, "principal", None)
        if status == 403 and getattr(principal, "is_anonymous", False):
            status, title = 401, "Not authenticated"
        if status >= 500:
            _log.error("request failed: %s", exc.render())
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return problem_response(
            status, title, exc.message, code=exc.code, errors=exc.diagnostics, headers=headers
        )

    async def validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        diags = _validation_diagnostics(exc)
        return problem_response(
            422,
            "Invalid input",
            f"{len(diags)} problem(s) in the request",
            code="input",
            errors=diags,
        )

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        title = {404: "Not found", 405: "Method not allowed", 413: "Content too large"}.get(
            exc.status_code, "Error"
        )
        return problem_response(
            exc.status_code,
            title,
            str(exc.detail),
            code="http",
            headers=dict(exc.headers) if exc.headers else None,
        )

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        _log.exception("unexpected error", exc_info=exc)
        return problem_response(
            500, "Internal error", "an unexpected error occurred", code="internal"
        )

    app.add_exception_handler(AccordError, accord_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries documenting problem answers for these statuses."""
    descriptions = {
        400: "Bad request",
        401: "Not authenticated (missing, invalid or revoked token)",
        403: "Forbidden for this role or organisation, or CSRF check failed",
        404: "Not found (or not visible to the caller)",
        409: "Conflicts with stored state",
        413: "Request body too large",
        422: "Invalid input; `errors` names each field",
        503: "Storage unavailable",
    }
    return {
        s: {
            "model": Problem,
            "description": descriptions.get(s, "Error"),
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for s in statuses
    }
