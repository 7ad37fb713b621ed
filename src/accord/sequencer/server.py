"""The sequencer process: records the decisions web workers send it, in one sequence.

``python -m accord.sequencer --socket PATH`` (``accord serve`` starts it; settings from
``ACCORD_*`` as for the web workers). It serves the frames of :mod:`accord.sequencer.wire` on a
Unix socket: each ``record`` request is a decision a worker validated and decided; the sequencer
writes it in a group commit (transfer, log entry and decision rows, a signed checkpoint, one
transaction, committed on its event loop) and answers with the rendered HTTP answer and its
receipt. On SIGTERM or SIGINT it stops accepting, commits and answers what it accepted, then
exits. It also exits when the process that started it is gone.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import logging
import os
import signal
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from accord import placement
from accord.errors import AccordError
from accord.sequencer.process import SEQUENCER_CPU_ENV
from accord.sequencer.wire import FrameProtocol, WireError, answer_header, frame, parse_request
from accord.service import MAX_BATCH, PendingDecision, Service
from accord.settings import Settings
from accord.web.problems import problem_document
from accord.web.recording import Answer, finish

__all__ = ["main", "serve"]

_log = logging.getLogger("accord.sequencer")
_INTERNAL = Answer(
    500,
    json.dumps(
        problem_document(500, "Internal error", "an unexpected error occurred", code="internal"),
        separators=(",", ":"),
    ).encode(),
)
#: Seconds between checks that the parent process is still there.
PARENT_CHECK_SECONDS = 1.0


class _Batcher:
    """Writes the decisions every connection sends in group commits, and answers each once it
    committed.

    The loop first reads everything that arrived; then the decisions waiting go into one
    transaction, committed on the loop's thread, and are answered. Decisions that arrive during
    a commit wait in the socket buffers and form the next batch. Committing on the loop, rather
    than in a helper thread, costs less CPU per decision (measured: no thread hand-offs and no
    contention for the GIL), and the log keeps one sequence by construction.
    """

    def __init__(self, service: Service) -> None:
        self.service = service
        self.decided: list[tuple[_Worker, int, PendingDecision]] = []
        self.scheduled = False

    def add(self, worker: _Worker, ident: int, pending: PendingDecision) -> None:
        self.decided.append((worker, ident, pending))
        if not self.scheduled:  # after the loop has read everything that already arrived
            self.scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        self.scheduled = False
        while self.decided:
            items, self.decided = self.decided[:MAX_BATCH], self.decided[MAX_BATCH:]
            self._write(items)

    def _write(self, items: list[tuple[_Worker, int, PendingDecision]]) -> None:
        try:
            self.service.write_batch([pending for _, _, pending in items], encoded=True)
        except Exception:  # write_batch answers every decision itself; this is a bug
            _log.exception("unexpected error while writing")
        self._answer(items)

    @staticmethod
    def _answer(items: list[tuple[_Worker, int, PendingDecision]]) -> None:
        # One write per worker connection for the whole batch, not one per answer.
        out: dict[_Worker, list[bytes]] = {}
        for worker, ident, pending in items:
            try:
                result = finish(pending, pending.principal)
            except Exception:
                _log.exception("unexpected error while answering")
                result = _INTERNAL
            out.setdefault(worker, []).append(
                frame(ident, answer_header(result.status, result.outcome), result.body)
            )
        for worker, frames in out.items():
            transport = worker.transport
            if transport is not None and not transport.is_closing():
                transport.write(b"".join(frames))

    @property
    def idle(self) -> bool:
        return not (self.scheduled or self.decided)


class _Worker(FrameProtocol):
    """One web worker's connection."""

    def __init__(self, batcher: _Batcher) -> None:
        super().__init__()
        self.batcher = batcher

    def data_received(self, data: bytes) -> None:
        try:
            for ident, header, body in self.reader.feed(data):
                op, pending = parse_request(header, body)
                if op != "record" or pending is None or not ident:
                    raise WireError(f"unknown request {op!r} from a worker")
                self.batcher.add(self, ident, pending)
        except WireError as exc:
            _log.error("dropping a worker connection: %s", exc.render())
            if self.transport is not None:
                self.transport.abort()


async def serve(
    service: Service,
    path: str | Path,
    *,
    parent: int | None = None,
    stop: asyncio.Event | None = None,
    ready: Callable[[], None] | None = None,
) -> None:
    """Serve ``service`` on the Unix socket ``path`` until ``stop`` is set (by default: until
    SIGTERM or SIGINT) or the process ``parent`` exits. ``ready`` is called once it listens."""
    loop = asyncio.get_running_loop()
    if stop is None:
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
    socket_path = Path(path)
    with contextlib.suppress(FileNotFoundError):
        socket_path.unlink()  # left by a sequencer that was killed
    batcher = _Batcher(service)
    old_umask = os.umask(0o177)  # the socket is born 0600
    try:
        server = await loop.create_unix_server(lambda: _Worker(batcher), path=str(path))
    finally:
        os.umask(old_umask)
    _log.info("recording decisions on %s", socket_path)
    if ready is not None:
        ready()

    async def watch_parent(stop: asyncio.Event) -> None:
        while parent is not None and os.getppid() == parent:
            await asyncio.sleep(PARENT_CHECK_SECONDS)
        if parent is not None:
            _log.warning("the process that started the sequencer is gone: stopping")
            stop.set()

    watcher = loop.create_task(watch_parent(stop))
    try:
        await stop.wait()
    finally:
        watcher.cancel()
        server.close()
        await server.wait_closed()
        while not batcher.idle:  # answer what was accepted
            await asyncio.sleep(0.01)
        with contextlib.suppress(FileNotFoundError):
            socket_path.unlink()


def _run(main: Coroutine[Any, Any, None]) -> None:
    """Run ``main`` on uvloop when it is installed (as uvicorn does for the web workers), else on
    asyncio's own loop."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


def main(argv: list[str] | None = None) -> int:
    """Run the sequencer process (see the module docstring)."""
    parser = argparse.ArgumentParser(
        prog="python -m accord.sequencer", description="Accord's decision sequencer process."
    )
    parser.add_argument("--socket", required=True, help="Unix socket to listen on")
    parser.add_argument("--parent", type=int, default=None, help="exit when this process exits")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="accord sequencer: %(levelname)s %(message)s")
    cpu = os.environ.get(SEQUENCER_CPU_ENV, "").strip()
    if cpu.isdigit() and placement.apply({int(cpu)}, "sequencer"):
        _log.info("bound to CPU %s", cpu)
    try:
        service = Service(Settings.from_env(), migrate=False)
    except AccordError as exc:
        print(f"accord sequencer: {exc.render()}", file=sys.stderr)
        return 2
    gc.collect()
    gc.freeze()  # the startup heap lives as long as the process: keep it out of collections
    try:
        _run(serve(service, args.socket, parent=args.parent))
    finally:
        service.close()
    return 0
