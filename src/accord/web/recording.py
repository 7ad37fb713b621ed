"""Deciding a transfer from a request body and recording it: the answer of
``POST /api/v1/decisions``, computed in one place whichever process records the decision.

:func:`prepare` turns the caller and the raw request body into a decided transfer, or refuses it
with an RFC 9457 problem naming each bad field; a :class:`Recorder` records the decision and
returns the HTTP answer as bytes (``201`` with the decision and its receipt): this process's own
group-commit writer (:class:`LocalRecorder`, the in-process app) or the sequencer process that
``accord serve`` runs (:class:`accord.sequencer.client.RemoteRecorder`), which renders the
answer with :func:`finish` once the decision is committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

import anyio.from_thread
import msgspec
from pydantic import BaseModel, ConfigDict, ValidationError

from accord.errors import AccordError, Diagnostic, InputError, StorageError
from accord.policy.transfer import Transfer
from accord.service import Capability, PendingDecision, Principal, Service
from accord.web.api.models import DecisionRequest
from accord.web.problems import (
    PROBLEM_JSON,
    problem_document,
    status_for,
    validation_diagnostics,
)

__all__ = [
    "Answer",
    "BaseRecorder",
    "LocalRecorder",
    "Recorder",
    "finish",
    "parse_request",
    "prepare",
    "prepare_request",
    "problem_answer",
    "record_document",
    "render_view",
    "view_of",
]

_log = logging.getLogger("accord.web")
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
_encode = msgspec.json.Encoder().encode


@dataclass(frozen=True, slots=True)
class Answer:
    """An HTTP answer: status, JSON body (a problem document unless 201) and, for a recorded
    decision, its outcome."""

    status: int
    body: bytes
    outcome: str | None = None

    @property
    def media_type(self) -> str:
        return "application/json" if self.status < 400 else PROBLEM_JSON

    @property
    def headers(self) -> dict[str, str] | None:
        return {"WWW-Authenticate": "Bearer"} if self.status == 401 else None


def problem_answer(exc: AccordError, principal: Principal) -> Answer:
    """The problem answer for ``exc`` (403 to the public becomes 401, as everywhere)."""
    status, title = status_for(exc)
    if status == 403 and principal.is_anonymous:
        status, title = 401, "Not authenticated"
    if status >= 500:
        _log.error("decision failed: %s", exc.render())
    document = problem_document(status, title, exc.message, code=exc.code, errors=exc.diagnostics)
    return Answer(status, _dumps(document).encode())


def _prefixed(exc: InputError, prefix: str) -> InputError:
    exc.diagnostics = [
        dataclasses.replace(d, path=f"{prefix}.{d.path}" if d.path else prefix)
        for d in exc.diagnostics
    ]
    return exc


def parse_request(raw: bytes) -> DecisionRequest:
    """The request body as a :class:`DecisionRequest`; :class:`InputError` naming each bad field
    (``body.transfer``, ``body.as_of``) or the position of malformed JSON."""
    try:
        return DecisionRequest.model_validate_json(raw)
    except ValidationError as exc:
        diagnostics = validation_diagnostics(exc.errors(), prefix=("body",))
        raise InputError(f"{len(diagnostics)} problem(s) in the request", diagnostics) from None


def render_view(view: Mapping[str, Any]) -> bytes:
    """The JSON bytes of a decision view (:class:`accord.web.api.models.DecisionDetail`)."""
    return _dumps(view).encode()


class _TypedRequest(BaseModel):
    """:class:`DecisionRequest` with the transfer validated in the same pass (from the JSON
    bytes, without building an intermediate dict). Only a fast path: on any problem the request
    is parsed again the ordinary way, whose errors name every field with a hint."""

    model_config = ConfigDict(extra="forbid")

    transfer: Transfer
    as_of: date | None = None


def prepare_request(service: Service, principal: Principal, raw: bytes) -> PendingDecision:
    """Check the caller, parse the body, validate and decide: the decision, ready to record
    (:class:`AccordError` for every refusal; nothing is written)."""
    principal.require(Capability.SUBMIT)
    try:
        typed = _TypedRequest.model_validate_json(raw)
    except ValidationError:
        typed = None
    if typed is not None and not typed.transfer.unknown_terms():
        try:
            return service.prepare_transfer(principal, typed.transfer, as_of=typed.as_of)
        except InputError as exc:
            raise _prefixed(exc, "body.transfer") from None
    request = parse_request(raw)  # its errors name body.… themselves
    try:
        return service.prepare_decision(principal, request.transfer, as_of=request.as_of)
    except InputError as exc:
        raise _prefixed(exc, "body.transfer") from None


def finish(pending: PendingDecision, principal: Principal) -> Answer:
    """The answer for a decision whose write finished (its future holds the outcome)."""
    if not pending.done.done():  # never written: a bug, but the caller gets an answer
        return problem_answer(
            StorageError("the decision was not recorded", [Diagnostic("not written")]), principal
        )
    try:
        _leaf, view = pending.done.result(timeout=0)
    except AccordError as exc:
        return problem_answer(exc, principal)
    return Answer(201, _render_recorded(view, pending), pending.outcome)


_SPLICED = frozenset({"decision", "transfer", "receipt"})


def _render_recorded(view: Mapping[str, Any], pending: PendingDecision) -> bytes:
    """:func:`render_view`, splicing in the decision's and transfer's canonical JSON bytes made
    when the decision was prepared instead of encoding those objects again."""
    receipt = pending.receipt_json
    if pending.decision_bytes is None or pending.transfer_bytes is None:
        if receipt is not None and "receipt" not in view:
            view = {**view, "receipt": json.loads(receipt)}
        return render_view(view)
    # The head's values are strings, integers, None and a list of pack ids: msgspec encodes them
    # exactly as _dumps does (compact, UTF-8), several times faster.
    head = _encode({k: v for k, v in view.items() if k not in _SPLICED})
    return b"".join(
        (
            head[:-1],
            b',"decision":',
            pending.decision_bytes,
            b',"transfer":',
            pending.transfer_bytes,
            b',"receipt":',
            _dumps(view["receipt"]).encode() if receipt is None else receipt,
            b"}",
        )
    )


async def prepare(service: Service, principal: Principal, raw: bytes) -> PendingDecision:
    """:func:`prepare_request` from an event loop: in place when the compiled engine is current
    (a fraction of a millisecond of CPU), in a worker thread when it needs a database read."""
    if service.engine_ready():
        return prepare_request(service, principal, raw)
    return await asyncio.to_thread(prepare_request, service, principal, raw)


class Recorder(Protocol):
    """Where ``POST /api/v1/decisions`` bodies are recorded: this process's group-commit writer
    (:class:`LocalRecorder`) or the sequencer process
    (:class:`accord.sequencer.client.RemoteRecorder`). Either way the decision is validated and
    made in this process."""

    async def decide(self, principal: Principal, raw: bytes) -> Answer: ...

    async def record(self, pending: PendingDecision) -> Answer: ...

    async def aclose(self) -> None: ...


class BaseRecorder:
    """What every recorder does with a request body: validate and decide it in this process
    (:func:`prepare`), then :meth:`record` the decision."""

    def __init__(self, service: Service) -> None:
        #: This process's service: it validates and decides.
        self.service = service

    async def decide(self, principal: Principal, raw: bytes) -> Answer:
        """Validate, decide and record ``raw``; the answer (201 once committed, or a problem;
        nothing is written for a refused request)."""
        try:
            pending = await prepare(self.service, principal, raw)
        except AccordError as exc:
            return problem_answer(exc, principal)
        return await self.record(pending)

    async def record(self, pending: PendingDecision) -> Answer:
        """Record a prepared decision; the answer once it is committed."""
        raise NotImplementedError

    async def aclose(self) -> None:
        """Release what the recorder holds."""


class LocalRecorder(BaseRecorder):
    """Decide and record in this process (its service's group-commit writer)."""

    async def record(self, pending: PendingDecision) -> Answer:
        try:
            future = self.service.submit_decision(pending)
        except AccordError as exc:
            return problem_answer(exc, pending.principal)
        with contextlib.suppress(Exception):  # the error is in the future; finish reports it
            await asyncio.wrap_future(future)
        return finish(pending, pending.principal)


def view_of(result: Answer) -> dict[str, Any]:
    """The decision view of a 201 answer; the problem as an :class:`AccordError` otherwise."""
    document = json.loads(result.body)
    if result.status == 201 and isinstance(document, dict):
        return document
    errors = document.get("errors", []) if isinstance(document, dict) else []
    diagnostics = [
        Diagnostic(
            str(item.get("message", "error")),
            path=item.get("path"),
            expected=item.get("expected"),
            found=item.get("found"),
            hint=item.get("hint"),
        )
        for item in errors
        if isinstance(item, dict)
    ]
    detail = document.get("detail", "not recorded") if isinstance(document, dict) else ""
    if result.status == 422:
        raise InputError(str(detail), diagnostics)
    raise StorageError(f"the decision was not recorded: {detail}", diagnostics)


def record_document(
    recorder: Recorder,
    service: Service,
    principal: Principal,
    document: Mapping[str, Any],
    *,
    source: str | None = None,
) -> dict[str, Any]:
    """Decide and record ``document`` from a worker thread (the HTML pages); its view.

    The document is validated and decided here, so that errors point into ``source``; nothing is
    written for them."""
    if isinstance(recorder, LocalRecorder):
        return service.decide(principal, document, source=source)
    pending = service.prepare_decision(principal, document, source=source)
    return view_of(anyio.from_thread.run(recorder.record, pending))
