"""``accord serve --reserve-sequencer-cpu`` binds the sequencer to a CPU of its own and the web
workers to the others (read back from the kernel)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from accord.placement import allowed_cpus


def _cpus_of(pid: int) -> set[int]:
    return os.sched_getaffinity(pid)


def _children(pid: int) -> list[tuple[int, bytes]]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat[1]) == pid:
            found.append((int(entry.name), cmdline))
    return found


@pytest.mark.skipif(
    not hasattr(os, "sched_getaffinity") or len(allowed_cpus()) < 2, reason="needs two CPUs"
)
def test_the_sequencer_gets_a_cpu_of_its_own(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-c", "import sys; from accord.cli import main; "
         "sys.exit(main(sys.argv[1:]))",
         "serve", "--db", str(tmp_path / "s.db"), "--port", str(port),
         "--reserve-sequencer-cpu"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env={**os.environ, "ACCORD_LOG_KEY": str(tmp_path / "log.key")},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, server.stdout.read() if server.stdout else ""
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        cpus = allowed_cpus()
        [sequencer] = [pid for pid, cmd in _children(server.pid) if b"accord.sequencer" in cmd]
        assert _cpus_of(sequencer) == {max(cpus)}
        assert _cpus_of(server.pid) == set(cpus) - {max(cpus)}  # the web process
    finally:
        server.send_signal(signal.SIGTERM)
        out, _ = server.communicate(timeout=60)
    assert b"sequencer on CPU" in out
