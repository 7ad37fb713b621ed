"""The web workers' side of the sequencer: :class:`RemoteRecorder`."""

from __future__ import annotations

import asyncio
import itertools

from accord.errors import Diagnostic, StorageError
from accord.sequencer.wire import FrameProtocol, WireError, parse_answer_header, record_frame
from accord.service import PendingDecision, Service
from accord.web.recording import Answer, BaseRecorder, problem_answer

__all__ = ["RemoteRecorder"]


class _Connection(FrameProtocol):
    def __init__(self, owner: RemoteRecorder) -> None:
        super().__init__()
        self.owner = owner

    def data_received(self, data: bytes) -> None:
        try:
            frames = self.reader.feed(data)
        except WireError as exc:
            self.owner._lost(self, exc)
            if self.transport is not None:
                self.transport.abort()
            return
        waiting = self.owner._waiting
        for ident, header, body in frames:
            future = waiting.pop(ident, None)
            if future is None or future.done():
                continue
            try:
                status, outcome = parse_answer_header(header)
            except WireError as exc:
                future.set_exception(exc)
                continue
            future.set_result(Answer(status, body, outcome))

    def connection_lost(self, exc: Exception | None) -> None:
        self.owner._lost(self, exc)


class RemoteRecorder(BaseRecorder):
    """Forward decision requests to the sequencer at ``path`` and return its answers.

    One connection per event loop, opened on first use and again after it breaks; requests are
    multiplexed on it by id. When the sequencer cannot be reached, or the connection breaks while
    requests wait, they are answered ``503`` (nothing was acknowledged, so the client may retry;
    a decision the sequencer committed before the break is in the log either way).
    """

    def __init__(self, path: str, service: Service) -> None:
        # The web process's service validates and decides, and its decision counters
        # (``/metrics``) count what the sequencer records for it.
        super().__init__(service)
        self.path = path
        self._connection: _Connection | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connecting: asyncio.Lock | None = None
        self._waiting: dict[int, asyncio.Future[Answer]] = {}
        self._ids = itertools.count(1)
        # Requests made in one turn of the event loop go out in one write at its end.
        self._outbox: list[bytes] = []
        self._sending = False

    def _next_id(self) -> int:
        ident = next(self._ids) & 0xFFFFFFFF
        if not ident:
            return self._next_id()
        return ident

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # first use, or a new event loop: start afresh
            self._close_connection()
            self._loop = loop
            self._connecting = asyncio.Lock()
            # Frames queued on the old loop never went out, and a send it had scheduled will not
            # run: start with an empty outbox.
            self._outbox.clear()
            self._sending = False
        assert self._connecting is not None
        async with self._connecting:
            if self._connection is None:
                try:
                    transport, connection = await loop.create_unix_connection(
                        lambda: _Connection(self), self.path
                    )
                except OSError as exc:
                    raise StorageError(
                        "the sequencer is not reachable",
                        [
                            Diagnostic(
                                str(exc),
                                path=self.path,
                                hint="the server's sequencer process is down; retry shortly",
                            )
                        ],
                    ) from exc
                if connection.transport is None:  # connection_made is the loop's to call
                    connection.transport = transport
                self._connection = connection
            return self._connection

    def _close_connection(self) -> None:
        connection, self._connection = self._connection, None
        loop = self._loop
        if (
            connection is not None
            and connection.transport is not None
            and loop is not None
            and not loop.is_closed()
        ):
            connection.transport.abort()

    def _lost(self, connection: _Connection, exc: Exception | None) -> None:
        if self._connection is connection:
            self._connection = None
        self._outbox.clear()  # their callers are answered 503 below: they must not be recorded
        waiting, self._waiting = self._waiting, {}
        error = StorageError(
            "the connection to the sequencer broke before it answered",
            [Diagnostic(str(exc) if exc else "closed", hint="retry the request")],
        )
        for future in waiting.values():
            if not future.done():
                future.set_exception(error)

    async def record(self, pending: PendingDecision) -> Answer:
        """Have the sequencer record a prepared decision; its answer (``201`` with the receipt
        once committed, or a problem)."""
        principal = pending.principal
        try:
            connection = self._connection
            if connection is None or self._loop is not asyncio.get_running_loop():
                connection = await self._connect()
            assert connection.transport is not None
            assert self._loop is not None
            ident = self._next_id()
            future: asyncio.Future[Answer] = self._loop.create_future()
            self._waiting[ident] = future
            self._outbox.append(record_frame(ident, pending))
            if not self._sending:
                self._sending = True
                self._loop.call_soon(self._send)
            result = await future
        except StorageError as exc:
            return problem_answer(exc, principal)
        if result.outcome:
            recorded = self.service.recorded
            recorded[result.outcome] = recorded.get(result.outcome, 0) + 1
        return result

    def _send(self) -> None:
        # Whatever is in the outbox was queued on the current connection: losing a connection
        # empties the outbox (and answers those callers), so nothing goes out on the wrong one.
        self._sending = False
        frames, self._outbox = self._outbox, []
        connection = self._connection
        if frames and connection is not None and connection.transport is not None:
            connection.transport.write(b"".join(frames))

    async def aclose(self) -> None:
        """Close the connection (the loop it belongs to must be the running one)."""
        self._close_connection()
        await asyncio.sleep(0)  # let the transport finish closing its socket
