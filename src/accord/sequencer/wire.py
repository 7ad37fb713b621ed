"""Frames between web workers and the sequencer, over a Unix socket.

Every frame is ``length (u32) | id (u32) | header length (u16) | header | body``, big-endian, where
``length`` counts everything after itself. A request's header is a small JSON object: ``op``
(``"decide"`` or ``"packs"``) and, for ``decide``, the caller (user id, email, role, organisation,
how they signed in, token scopes); its body is the raw HTTP request body. An answer carries the
request's id, a JSON header (``status``, ``outcome``) and the answer's body. ``id`` 0 is for
notices that get no answer (``packs``: pack changes were committed; recompile now).

The socket lives in a directory only the serving user can open: the sequencer trusts the identity
a worker sends as a backend trusts its authenticating proxy.
"""

from __future__ import annotations

import asyncio
import functools
import json
import struct
from typing import Any

from accord.errors import Diagnostic, StorageError
from accord.service import Principal
from accord.storage.models import Role

__all__ = [
    "MAX_FRAME",
    "FrameProtocol",
    "FrameReader",
    "WireError",
    "frame",
    "principal_from",
    "request_header",
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
            out.append(
                (
                    ident,
                    bytes(buffer[start : start + header_length]),
                    bytes(buffer[start + header_length : stop]),
                )
            )
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
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport


@functools.lru_cache(maxsize=4096)
def request_header(principal: Principal) -> bytes:
    """The ``decide`` header for ``principal`` (cached: a caller's header is always the same)."""
    return json.dumps(
        {
            "op": "decide",
            "user": principal.user_id,
            "email": principal.email,
            "role": None if principal.role is None else principal.role.value,
            "org": principal.org_id,
            "via": principal.via,
            "scopes": sorted(principal.scopes),
        },
        separators=(",", ":"),
    ).encode()


@functools.lru_cache(maxsize=4096)
def principal_from(header: bytes) -> tuple[str, Principal | None]:
    """The op of a request header and, for ``decide``, the caller it names."""
    try:
        data: Any = json.loads(header)
        op = str(data["op"])
        if op != "decide":
            return op, None
        role = data["role"]
        return op, Principal(
            user_id=data["user"],
            email=data["email"],
            role=None if role is None else Role(role),
            org_id=data["org"],
            via=str(data["via"]),
            scopes=frozenset(str(s) for s in data["scopes"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise WireError("malformed request header from a worker", [Diagnostic(str(exc))]) from exc
