"""Start, supervise and stop the sequencer process for ``accord serve``."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path

from accord.errors import Diagnostic, StorageError

__all__ = ["SEQUENCER_CPU_ENV", "SequencerProcess"]

_log = logging.getLogger("accord.sequencer")
#: Seconds to wait for a (re)started sequencer to accept connections.
START_TIMEOUT = 60.0
#: Seconds a stopping sequencer gets to commit what it accepted before it is killed.
STOP_TIMEOUT = 60.0
#: Set in the sequencer's environment by ``accord serve --reserve-sequencer-cpu``: the CPU it
#: binds itself to (:mod:`accord.placement`).
SEQUENCER_CPU_ENV = "ACCORD_SEQUENCER_CPU"


def _accepts(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True


class SequencerProcess:
    """The sequencer as a child process on a private Unix socket, restarted if it dies.

    ``start()`` returns the socket path once the sequencer accepts connections (give it to the web
    workers as ``ACCORD_SEQUENCER_SOCKET``); ``stop()`` asks it to finish and waits. ``env`` is
    the environment of the child (the workers' ``ACCORD_*`` settings)."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = dict(env)
        self._folder = Path(tempfile.mkdtemp(prefix="accord-sequencer-"))  # mode 0700
        self.path = self._folder / "sequencer.sock"
        self._process: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None
        self.restarts = 0

    def _spawn(self) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "accord.sequencer", "--socket", str(self.path),
                   "--parent", str(os.getpid())]  # fmt: skip
        process = subprocess.Popen(command, env=self.env)
        deadline = time.monotonic() + START_TIMEOUT
        while not _accepts(self.path):
            code = process.poll()
            if code is not None:
                raise StorageError(
                    "the sequencer process did not start",
                    [Diagnostic(f"it exited with code {code}", hint="see its messages above")],
                )
            if time.monotonic() > deadline:
                process.kill()
                raise StorageError(
                    "the sequencer process did not start",
                    [Diagnostic(f"no answer on {self.path} within {START_TIMEOUT:.0f} s")],
                )
            time.sleep(0.02)
        return process

    def start(self) -> Path:
        """Start the sequencer and its supervisor; the socket path."""
        self._process = self._spawn()
        self._watcher = threading.Thread(target=self._watch, name="accord-sequencer", daemon=True)
        self._watcher.start()
        return self.path

    def _watch(self) -> None:
        while not self._stopping.is_set():
            process = self._process
            if process is None:
                return
            code = process.wait()
            if self._stopping.is_set():
                return
            _log.error("the sequencer exited (code %s): starting it again", code)
            time.sleep(0.5)
            try:
                self._process = self._spawn()
                self.restarts += 1
            except StorageError as exc:
                _log.error("%s", exc.render())

    def stop(self) -> None:
        """Ask the sequencer to commit what it accepted and exit; remove its socket."""
        self._stopping.set()
        process = self._process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(self._folder, ignore_errors=True)

    def __enter__(self) -> Path:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
