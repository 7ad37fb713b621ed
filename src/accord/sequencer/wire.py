"""Frames between web workers and the sequencer, over a Unix socket.

Every frame is ``length (u32) | id (u32) | header length (u16) | header | body``, big-endian, where
``length`` counts everything after itself. A worker sends ``record`` requests: a decision it has
validated and decided, as a small JSON header (the caller — user id, email, role, organisation,
how they signed in, token scopes — and the decision's id, digest, outcome, day, packs and the
transfer's id) and a body holding the canonical (RFC 8785) bytes of the transfer, the decision and
the log entry. The answer carries the request's id, a JSON header (``status``, ``outcome``) and
the HTTP answer's body, rendered by the sequencer once the decision is committed. Headers are
encoded and decoded against typed schemas (``msgspec``): a header that does not match is refused.

The socket lives in a directory only the serving user can open: the sequencer trusts what a
worker sends — the caller it authenticated, the decision it made — as a backend trusts its
authenticating proxy.
"""

from __future__ import annotations

import asyncio
import functools
import struct
from datetime import date
from typing import cast

import msgspec

from accord.errors import Diagnostic, StorageError
from accord.service import PendingDecision, Principal
from accord.storage.models import Role

__all__ = [
    "MAX_FRAME",
    "FrameProtocol",
    "FrameReader",
    "WireError",
    "answer_header",
    "frame",
    "parse_answer_header",
    "parse_request",
    "record_frame",
]

_LENGTH = struct.Struct(">I")
_HEAD = struct.Struct(">IIH")
_AFTER_LENGTH = struct.Struct(">IH")
#: Largest frame accepted (the request body limit is far below).
MAX_FRAME = 64 * 1024 * 1024


class WireError(StorageError):
    """A malformed frame: the connection is closed."""


def frame(ident: int, header: bytes, body: bytes) -> bytes:
    """One frame."""
    return _HEAD.pack(6 + len(header) + len(body), ident, len(header)) + header + body


class FrameReader:
    """Collects received bytes and returns the complete frames as ``(id, header, body)``."""

    __slots__ = ("_buffer",)

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[tuple[int, bytes, bytes]]:
        buffer = self._buffer
        buffer += data
        out: list[tuple[int, bytes, bytes]] = []
        pos, end = 0, len(buffer)
        # Slices of a memoryview copy once (a bytearray slice would copy twice); the view is
        # released before the buffer is trimmed.
        with memoryview(buffer) as view:
            while end - pos >= 4:
                (length,) = _LENGTH.unpack_from(buffer, pos)
                if not 6 <= length <= MAX_FRAME:
                    raise WireError(
                        "malformed frame from the peer",
                        [Diagnostic("bad frame length", found=str(length), expected="6 to 64 MiB")],
                    )
                if end - pos - 4 < length:
                    break
                ident, header_length = _AFTER_LENGTH.unpack_from(buffer, pos + 4)
                start = pos + 10
                stop = pos + 4 + length
                if start + header_length > stop:
                    raise WireError(
                        "malformed frame from the peer",
                        [Diagnostic("header longer than its frame", found=str(header_length))],
                    )
                cut = start + header_length
                out.append((ident, bytes(view[start:cut]), bytes(view[cut:stop])))
                pos = stop
        if pos:
            del buffer[:pos]
        return out


class FrameProtocol(asyncio.Protocol):
    """One end of a connection: its transport and a :class:`FrameReader` for what arrives
    (subclasses read frames in ``data_received``)."""

    def __init__(self) -> None:
        self.reader = FrameReader()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport; not necessarily an asyncio.Transport instance (uvloop's are not).
        self.transport = cast(asyncio.Transport, transport)


class _Caller(msgspec.Struct, frozen=True):
    """Who a decision is recorded for, as the worker authenticated them."""

    user: int | None
    email: str | None
    role: str | None
    org: int | None
    via: str
    scopes: tuple[str, ...]


class _Record(msgspec.Struct):
    """The header of a ``record`` request."""

    op: str
    caller: _Caller
    id: str
    digest: str
    outcome: str
    as_of: date
    packs: list[str]
    transfer_id: str | None
    sizes: tuple[int, int, int]


class _Op(msgspec.Struct):
    """Any request's header: its op."""

    op: str


class _Answer(msgspec.Struct):
    """The header of an answer."""

    status: int
    outcome: str | None = None


_RECORD = msgspec.json.Decoder(_Record)
_ANSWER = msgspec.json.Decoder(_Answer)
_OP = msgspec.json.Decoder(_Op)
_ENCODE = msgspec.json.Encoder().encode


@functools.lru_cache(maxsize=4096)
def _caller(principal: Principal) -> _Caller:
    return _Caller(
        user=principal.user_id,
        email=principal.email,
        role=None if principal.role is None else principal.role.value,
        org=principal.org_id,
        via=principal.via,
        scopes=tuple(sorted(principal.scopes)),
    )


@functools.lru_cache(maxsize=4096)
def _principal(caller: _Caller) -> Principal:
    return Principal(
        user_id=caller.user,
        email=caller.email,
        role=None if caller.role is None else Role(caller.role),
        org_id=caller.org,
        via=caller.via,
        scopes=frozenset(caller.scopes),
    )


def record_frame(ident: int, pending: PendingDecision) -> bytes:
    """The ``record`` request for a decided transfer: what the sequencer needs to write and
    answer it — the caller, the decision's id, digest, outcome, day and packs, and the canonical
    bytes of the transfer, the decision and the log entry (the frame's body, in that order)."""
    parts = (pending.transfer_bytes, pending.decision_bytes, pending.entry_bytes)
    if any(part is None for part in parts):
        raise ValueError("a decision to record needs its canonical bytes")
    transfer, decision, entry = (part or b"" for part in parts)
    transfer_id = pending.transfer_json.get("id")
    header = _ENCODE(
        _Record(
            op="record",
            caller=_caller(pending.principal),
            id=pending.decision_id,
            digest=pending.digest,
            outcome=pending.outcome,
            as_of=pending.as_of,
            packs=pending.packs,
            transfer_id=None if transfer_id is None else str(transfer_id),
            sizes=(len(transfer), len(decision), len(entry)),
        )
    )
    return frame(ident, header, transfer + decision + entry)


@functools.lru_cache(maxsize=256)
def answer_header(status: int, outcome: str | None) -> bytes:
    """The header of an answer (few distinct ones: each is encoded once)."""
    return _ENCODE(_Answer(status, outcome))


@functools.lru_cache(maxsize=256)
def parse_answer_header(header: bytes) -> tuple[int, str | None]:
    """``(status, outcome)`` of an answer's header (:class:`WireError` if it is malformed)."""
    try:
        answer = _ANSWER.decode(header)
    except msgspec.MsgspecError as exc:
        raise WireError("malformed answer from the sequencer", [Diagnostic(str(exc))]) from exc
    return answer.status, answer.outcome


def parse_request(header: bytes, body: bytes) -> tuple[str, PendingDecision | None]:
    """The op of a request and, for ``record``, the decision to write (its ``transfer_json`` and
    ``decision`` hold only what the view's head needs: the answer splices the canonical bytes)."""
    try:
        try:
            data = _RECORD.decode(header)
        except msgspec.ValidationError:
            op = _OP.decode(header).op
            if op != "record":
                return op, None
            raise
        principal = _principal(data.caller)
        sizes = data.sizes
        if min(sizes) < 0 or sum(sizes) != len(body):
            raise ValueError("the sizes do not match the body")
        cut, end = sizes[0], sizes[0] + sizes[1]
        return data.op, PendingDecision(
            principal=principal,
            transfer_json={"id": data.transfer_id},
            decision_id=data.id,
            decision={},
            digest=data.digest,
            outcome=data.outcome,
            as_of=data.as_of,
            packs=data.packs,
            entry={},
            transfer_bytes=body[:cut],
            decision_bytes=body[cut:end],
            entry_bytes=body[end:],
        )
    except (msgspec.MsgspecError, ValueError) as exc:
        raise WireError("malformed request from a worker", [Diagnostic(str(exc))]) from exc
