"""HTTP benchmark: recorded decisions per second and p99 latency of ``POST /api/v1/decisions``.

One uvicorn server (one worker, in a subprocess, on 127.0.0.1) serves the product app on a durable
SQLite database (WAL, ``synchronous=FULL``) with the shipped packs, plus a trivial endpoint
(``/bench/trivial``, see ``bench_app.py``) that parses the same JSON body and answers a constant.
Both are loaded in the same run with the same client, bodies, concurrency and request count:

* ``--tool httpx`` (default when ``wrk`` is absent): an asyncio httpx client, a fixed number of
  requests at a fixed concurrency;
* ``--tool wrk``: ``wrk`` (C, ``apt-get install wrk``) for a fixed duration at a fixed
  concurrency; it costs the machine far less CPU than a Python client.

Afterwards the run checks that every acknowledged decision is stored and that the log verifies
(``accord log verify``). ``--profile`` instead profiles the decision path in-process (cProfile).

    python benchmarks/http/run.py            # full run
    python benchmarks/http/run.py --quick    # short run
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import json
import os
import pstats
import re
import resource
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
EXAMPLES = ROOT / "examples" / "transfers"
DECISIONS = "/api/v1/decisions"
TRIVIAL = "/bench/trivial"


@dataclass
class Result:
    """One load run against one endpoint."""

    name: str
    requests: int = 0
    ok: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    p50_ms: float | None = None
    p99_ms: float | None = None
    #: CPU µs per request spent by each process: the web server, the sequencer, the load client.
    cpu_us: dict[str, float] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def finish(self) -> Result:
        if self.latencies_ms:
            ordered = sorted(self.latencies_ms)
            self.p50_ms = ordered[len(ordered) // 2]
            self.p99_ms = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        return self


# ---------------------------------------------------------------------------------- setup


def transfer_bodies() -> list[bytes]:
    """Request bodies: the shipped example transfers, each with a fresh id per copy."""
    docs: list[dict[str, Any]] = []
    for path in sorted(EXAMPLES.glob("*.yaml")):
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        for doc in loaded if isinstance(loaded, list) else [loaded]:
            if isinstance(doc, dict):
                docs.append(doc)
    if not docs:
        raise SystemExit(f"no example transfers in {EXAMPLES}")
    bodies = []
    for i in range(64):
        doc = dict(docs[i % len(docs)])
        doc["id"] = f"bench-{i}"
        bodies.append(json.dumps({"transfer": doc}, default=str).encode())
    return bodies


#: ``--database-url``: a PostgreSQL server to benchmark on instead of a SQLite file (each run
#: gets a schema of its own there, dropped afterwards).
_SERVER_URL: list[str] = []


def database_url(folder: Path) -> str:
    """The run's database: a SQLite file in ``folder``, or its schema on ``--database-url``."""
    if not _SERVER_URL:
        return f"sqlite:///{folder / 'accord.db'}"
    from sqlalchemy.engine import make_url

    url = make_url(_SERVER_URL[0])
    return url.update_query_dict({"options": f"-csearch_path={_schema(folder)}"}).render_as_string(
        hide_password=False
    )


def _schema(folder: Path) -> str:
    return "accord_bench_" + re.sub(r"[^a-z0-9]", "_", folder.name.lower())


def _server_admin(statement: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(_SERVER_URL[0])
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(statement))
    finally:
        engine.dispose()


def create_database(folder: Path) -> None:
    if _SERVER_URL:
        _server_admin(f'CREATE SCHEMA "{_schema(folder)}"')


def discard(folder: Path) -> None:
    """Remove a run's folder and, on ``--database-url``, its schema."""
    if _SERVER_URL:
        _server_admin(f'DROP SCHEMA IF EXISTS "{_schema(folder)}" CASCADE')
    shutil.rmtree(folder, ignore_errors=True)


def seed(folder: Path) -> tuple[dict[str, str], str]:
    """A migrated database with the shipped packs, one organisation, a member and its token."""
    from accord.service import OPERATOR, Service
    from accord.settings import Settings
    from accord.storage.models import Role

    create_database(folder)
    env = {
        **os.environ,
        "ACCORD_DATABASE_URL": database_url(folder),
        "ACCORD_LOG_KEY": str(folder / "log.key"),
        "ACCORD_SECRET_KEY": "benchmark",
    }
    service = Service(Settings.from_env(env))
    try:
        service.ensure_shipped_packs()
        service.create_org(OPERATOR, name="Bench Org", country="US")
        service.create_user(
            OPERATOR, email="bench@bench.example", role=Role.MEMBER, org="Bench Org", password=None
        )
        _, token = service.issue_token(OPERATOR, user="bench@bench.example", name="bench")
    finally:
        service.close()
    return env, token


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


#: ``taskset`` prefix for the load generator (``--client-cpus``); empty: the scheduler places it.
_CLIENT_CPUS: list[str] = []


def start_server(
    env: dict[str, str],
    port: int,
    log: Path,
    workers: int = 1,
    sequencer: bool = True,
    reserve_sequencer_cpu: bool = False,
) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, str(HERE / "bench_app.py"), "--port", str(port),
           "--workers", str(workers)]  # fmt: skip
    if not sequencer:
        cmd.append("--no-sequencer")
    if reserve_sequencer_cpu:
        cmd.append("--reserve-sequencer-cpu")
    process = subprocess.Popen(cmd, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited:\n{log.read_text()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the server did not start in 60 s")


# ---------------------------------------------------------------------------------- load


async def _httpx_load(
    url: str, bodies: list[bytes], headers: dict[str, str], n: int, concurrency: int
) -> Result:
    result = Result(name=url)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    next_index = 0

    async with httpx.AsyncClient(limits=limits, timeout=60) as client:

        async def worker() -> None:
            nonlocal next_index
            while next_index < n:
                i = next_index
                next_index += 1
                start = time.perf_counter()
                try:
                    response = await client.post(
                        url, content=bodies[i % len(bodies)], headers=headers
                    )
                    good = response.status_code in (200, 201)
                except httpx.HTTPError:
                    good = False
                result.latencies_ms.append((time.perf_counter() - start) * 1000)
                result.requests += 1
                if good:
                    result.ok += 1
                else:
                    result.errors += 1

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        result.seconds = time.perf_counter() - began
    return result.finish()


def httpx_load(
    url: str, bodies: list[bytes], headers: dict[str, str], n: int, concurrency: int
) -> Result:
    return asyncio.run(_httpx_load(url, bodies, headers, n, concurrency))


_WRK_SCRIPT = """
local bodies = {}
for line in io.lines("%(bodies)s") do bodies[#bodies + 1] = line end
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
%(auth)s
request = function()
  i = i + 1
  return wrk.format(nil, nil, nil, bodies[(i %% #bodies) + 1])
end
"""


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk_load(
    url: str,
    bodies: list[bytes],
    headers: dict[str, str],
    seconds: int,
    concurrency: int,
    folder: Path,
) -> Result:
    body_file = folder / "bodies.txt"
    body_file.write_bytes(b"\n".join(bodies) + b"\n")
    auth = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items())
    script = folder / "post.lua"
    script.write_text(_WRK_SCRIPT % {"bodies": body_file, "auth": auth}, encoding="utf-8")
    out = subprocess.run(
        [*_CLIENT_CPUS, "wrk", "-t1", f"-c{concurrency}", f"-d{seconds}s", "--latency",
         "--timeout", "30s", "-s", str(script), url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    result = Result(name=url, seconds=float(seconds))
    total = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)
    if total is None:
        raise SystemExit(f"cannot read wrk's output:\n{out}")
    result.requests = int(total.group(1))
    result.seconds = _ms(total.group(2), total.group(3)) / 1000
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    result.errors = (int(bad.group(1)) if bad else 0) + (
        sum(int(g) for g in socket_errors.groups()) if socket_errors else 0
    )
    result.ok = result.requests - (int(bad.group(1)) if bad else 0)
    for pct, attr in (("50", "p50_ms"), ("99", "p99_ms")):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
        if m:
            setattr(result, attr, _ms(m.group(1), m.group(2)))
    return result


# ---------------------------------------------------------------------------------- CPU


_TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (0 if it is gone)."""
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / _TICK if fields else 0.0


def _sequencers(parent: int) -> list[int]:
    """Processes started by ``parent`` running the sequencer."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if fields and int(fields[1]) == parent and b"accord.sequencer" in cmdline:
                found.append(int(entry.name))
    return found


def _database_servers() -> list[int]:
    """The local PostgreSQL server's processes (``--database-url``; none for SQLite, whose
    work is done inside the sequencer)."""
    if not _SERVER_URL:
        return []
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def with_cpu(server: int, load: Any, stub: int | None = None) -> Result:
    """Run ``load()`` and attach the CPU each process spent per request (``stub``: the stub
    sequencer's pid, counted as the sequencer)."""
    sequencers = _sequencers(server) + ([stub] if stub is not None else [])
    processes = {"web": [server], "sequencer": sequencers, "database": _database_servers()}
    before = {k: sum(map(_cpu_seconds, v)) for k, v in processes.items()}
    client = _client_cpu()
    started = time.process_time()
    result: Result = load()
    spent = {k: sum(map(_cpu_seconds, v)) - before[k] for k, v in processes.items()}
    spent["client"] = (_client_cpu() - client) + (time.process_time() - started)
    if result.requests:
        result.cpu_us = {k: v / result.requests * 1e6 for k, v in spent.items()}
    return result


# ---------------------------------------------------------------------------------- checks


def _scalars(folder: Path, *queries: str) -> list[Any]:
    import sqlalchemy as sa

    engine = sa.create_engine(database_url(folder))
    try:
        with engine.connect() as conn:
            return [conn.execute(sa.text(q)).scalar_one() for q in queries]
    finally:
        engine.dispose()


def stored_decisions(folder: Path) -> tuple[int, int]:
    """Decisions stored, and group commits (each commits one signed checkpoint)."""
    decisions, commits = _scalars(
        folder, "SELECT count(*) FROM decisions", "SELECT count(*) FROM ledger_checkpoints"
    )
    return int(decisions), int(commits)


def durability_settings(folder: Path) -> str:
    """How the run's database makes a commit durable, as it reports it."""
    if _SERVER_URL:
        fsync, commit, version = _scalars(
            folder, "SHOW fsync", "SHOW synchronous_commit", "SHOW server_version"
        )
        return f"PostgreSQL {version}, fsync={fsync}, synchronous_commit={commit}"
    with sqlite3.connect(folder / "accord.db") as conn:
        journal = conn.execute("PRAGMA journal_mode").fetchone()[0]
    return f"SQLite journal_mode={journal}, synchronous=FULL"


def verify_log(folder: Path) -> bool:
    from accord.cli import main as accord

    with contextlib.redirect_stdout(io.StringIO()):
        return accord(["log", "verify", "--db", database_url(folder)]) == 0


# ---------------------------------------------------------------------------------- profile


def profile(n: int, where: Path | None = None) -> None:
    """Profile ``Service.decide`` in-process (what one request costs without HTTP).

    ``where`` puts the database elsewhere, e.g. ``/dev/shm`` (memory: fsync costs nothing there,
    which separates the CPU cost from the disk's).
    """
    from accord.service import Service
    from accord.settings import Settings

    folder = Path(tempfile.mkdtemp(prefix="accord-http-profile-", dir=where))
    try:
        env, token = seed(folder)
        service = Service(Settings.from_env(env), migrate=False)
        principal = service.authenticate_token(token)
        assert principal is not None
        docs = [json.loads(b)["transfer"] for b in transfer_bodies()]

        def one(doc: dict[str, Any]) -> None:
            # What a request and the group-commit writer do, in this thread (so that cProfile
            # sees both), one decision per batch.
            pending = service.prepare_decision(principal, doc)
            service._write_batch([pending])
            pending.done.result()

        for doc in docs[:5]:
            one(doc)

        # First without a profiler: wall time of each step, per decision.
        spent: dict[str, float] = {}

        def timed(owner: Any, name: str) -> None:
            inner = getattr(owner, name)

            def wrapper(*args: Any, **kwargs: Any) -> Any:
                began = time.perf_counter()
                try:
                    return inner(*args, **kwargs)
                finally:
                    spent[name] = spent.get(name, 0.0) + time.perf_counter() - began

            setattr(owner, name, wrapper)

        for owner, name in ((service, "prepare_decision"), (service, "_write_rows"),
                            (service.ledger, "batch_receipts")):  # fmt: skip
            if hasattr(owner, name):
                timed(owner, name)
        began = time.perf_counter()
        for i in range(n):
            one(docs[i % len(docs)])
        elapsed = time.perf_counter() - began
        print(f"in-process decisions (prepare + write, one per batch), no profiler: "
              f"{n / elapsed:,.0f}/s, "
              f"{elapsed / n * 1e3:.2f} ms each, of which:")  # fmt: skip
        for name, seconds in spent.items():
            print(f"  {name:<28} {seconds / n * 1e3:6.2f} ms")
        print(f"  {'(everything else)':<28} {(elapsed - sum(spent.values())) / n * 1e3:6.2f} ms\n")

        profiler = cProfile.Profile()
        began = time.perf_counter()
        profiler.enable()
        for i in range(n):
            one(docs[i % len(docs)])
        profiler.disable()
        elapsed = time.perf_counter() - began
        print(
            f"in-process decisions: {n / elapsed:,.0f}/s ({elapsed / n * 1e6:,.0f} µs each,"
            " profiler on)"
        )
        stats = pstats.Stats(profiler)
        print("\nwhere the time goes (cumulative, per decision):")
        wanted = {
            ("run.py", "one"): "one decision (total)",
            ("transfer.py", "from_mapping"): "  validate the transfer document",
            ("service.py", "_engine_for_active_packs"): "  find the compiled engine",
            ("compile.py", "decide"): "  evaluate (compiled engine)",
            ("entries.py", "canonical_json"): "  canonical JSON (RFC 8785)",
            ("service.py", "prepare_decision"): "  validate, evaluate, canonicalise, digest",
            ("service.py", "_write_rows"): "  one transaction: rows, log entries, checkpoint",
            ("ledger_bridge.py", "append_batch_in"): "  log append, proofs, checkpoint in place",
            ("ledger_bridge.py", "batch_receipts"): "  receipts (from memory)",
            ("~", "<method 'commit' of 'sqlite3.Connection' objects>"): "  sqlite3 COMMIT (fsync)",
            ("~", "<method 'execute' of 'sqlite3.Cursor' objects>"): "  sqlite3 statements",
        }
        for (file, _line, name), (cc, _nc, _tt, ct, _callers) in stats.stats.items():
            for (want_file, want_name), label in wanted.items():
                if file.endswith(want_file) and name == want_name:
                    print(f"  {label:<45} {ct / n * 1e6:>9,.0f} µs  ({cc / n:.1f} calls)")
        stream = io.StringIO()
        pstats.Stats(profiler, stream=stream).sort_stats("cumulative").print_stats(25)
        print(stream.getvalue())
        service.close()
    finally:
        discard(folder)


# ---------------------------------------------------------------------------------- main


#: Functions whose share of the server's samples ``--py-spy`` reports (substring of py-spy's name).
SPY_FUNCTIONS = (
    ("RequestResponseCycle", "web: uvicorn's HTTP handling (as for any request)"),
    ("DecisionFastPath.__call__", "web: the decision fast path"),
    ("prepare_request", "  validate, decide, canonical JSON, digest"),
    ("RemoteRecorder.record", "  hand the decision to the sequencer and wait"),
    ("current_principal", "web: authentication through the route (token cache miss)"),
    ("_Batcher.flush", "sequencer: write a batch, commit, answer"),
    ("Service._write_rows_in", "  rows, log entries, signed checkpoint"),
    ("do_commit", "  COMMIT (WAL pages and fsync)"),
    ("_Batcher._answer", "  receipts and answers rendered and sent"),
    ("parse_request (accord/sequencer", "sequencer: reading requests"),
)


def spy(pid: int, seconds: int, out: Path) -> subprocess.Popen[bytes] | None:
    """Start ``py-spy record`` on ``pid`` (raw collapsed stacks), if py-spy is installed."""
    exe = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if exe is None:
        print("py-spy not found (pip install py-spy): no profile")
        return None
    cmd = [exe, "record", "--pid", str(pid), "--duration", str(seconds), "--rate", "100",
           "--format", "raw", "--nonblocking", "--subprocesses", "-o", str(out)]  # fmt: skip
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def spy_report(raw: Path) -> str:
    """Inclusive share of samples for each of ``SPY_FUNCTIONS``, as a Markdown table."""
    total = 0
    shares = dict.fromkeys((pattern for pattern, _ in SPY_FUNCTIONS), 0)
    for line in raw.read_text(encoding="utf-8").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        total += int(count)
        for pattern in shares:
            if pattern in stack:
                shares[pattern] += int(count)
    if not total:
        return "(no samples)"
    lines = ["| where | share of samples |", "|---|---:|"]
    lines += [f"| {label} | {shares[p] / total:.0%} |" for p, label in SPY_FUNCTIONS]
    return "\n".join(lines) + f"\n\n({total:,} samples)"


def bracketed_ratios(trivial: list[Result], decisions: list[Result]) -> list[float]:
    """Each decision round's rate over the mean rate of the trivial rounds run just before and
    just after it (rounds run T D T D … T): a drift of the machine's speed over the pair cancels
    out, which the ratio of the two medians does not do. With no trivial round after a decision
    round (a single round), the one before is used."""
    out = []
    for i, d in enumerate(decisions):
        around = [t.rate for t in trivial[i : i + 2] if t.rate]
        if around:
            out.append(d.rate / statistics.fmean(around))
    return out


@dataclass
class Session:
    """One server loaded in rounds, then checked."""

    label: str
    trivial: list[Result] = field(default_factory=list)
    decisions: list[Result] = field(default_factory=list)
    acknowledged: int = 0
    stored: int = 0
    commits: int = 0
    log_ok: bool = False
    journal: str = ""
    profile: str = ""


def measure(
    *,
    label: str,
    tool: str,
    bodies: list[bytes],
    n: int,
    seconds: int,
    rounds: int,
    concurrency: int,
    with_trivial: bool,
    workers: int = 1,
    sequencer: bool = True,
    py_spy: bool = False,
    spy_out: Path | None = None,
    stub_sequencer: bool = False,
    reserve_sequencer_cpu: bool = False,
) -> Session:
    """Seed a database, start a server, load it in alternating rounds, stop it, check it."""
    session = Session(label=label)
    folder = Path(tempfile.mkdtemp(prefix="accord-http-bench-"))
    server = None
    loaded = False
    stub = None
    try:
        env, token = seed(folder)
        port = free_port()
        if stub_sequencer:
            path = folder / "stub.sock"
            stub = subprocess.Popen([sys.executable, str(HERE / "stub_sequencer.py"), str(path)])
            deadline = time.monotonic() + 30
            while not path.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            env = {**env, "ACCORD_SEQUENCER_SOCKET": str(path)}
            sequencer = False  # the workers talk to the stub instead
        server = start_server(
            env, port, folder / "server.log", workers, sequencer, reserve_sequencer_cpu
        )
        base = f"http://127.0.0.1:{port}"
        auth = {"Authorization": f"Bearer {token}"}
        plain = {"Content-Type": "application/json"}

        def run(path: str, headers: dict[str, str]) -> Result:
            assert server is not None
            if tool == "wrk":
                return with_cpu(
                    server.pid,
                    lambda: wrk_load(base + path, bodies, headers, seconds, concurrency, folder),
                    None if stub is None else stub.pid,
                )
            return with_cpu(
                server.pid,
                lambda: httpx_load(base + path, bodies, {**plain, **headers}, n, concurrency),
                None if stub is None else stub.pid,
            )

        # Warm-up (imports, compiled packs, connections), with the Python client for both tools.
        httpx_load(base + TRIVIAL, bodies, plain, 200, 8)
        warm = httpx_load(base + DECISIONS, bodies, {**plain, **auth}, 200, 8)
        for number in range(rounds):
            if with_trivial:
                session.trivial.append(run(TRIVIAL, {}))
            spying = (
                spy(server.pid, max(2, seconds - 2), folder / "spy.txt")
                if (py_spy and number == 0)
                else None
            )
            session.decisions.append(run(DECISIONS, auth))
            if spying is not None:
                spying.wait(timeout=120)
                if (folder / "spy.txt").exists():
                    session.profile = spy_report(folder / "spy.txt")
                    if spy_out is not None:
                        shutil.copyfile(folder / "spy.txt", spy_out)
        if with_trivial and rounds > 1:
            # A last trivial round, so that every decision round has a trivial round on each side
            # (see bracketed_ratios).
            session.trivial.append(run(TRIVIAL, {}))
        loaded = True
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        if stub is not None:
            stub.kill()
            stub.wait()
        if not loaded:  # a failed or interrupted run leaves no database behind
            discard(folder)
    if stub_sequencer:  # nothing was written: there is nothing to check
        session.acknowledged = session.stored = 0
        session.log_ok = True
        session.journal = "(not used: stub sequencer)"
        discard(folder)
        return session
    try:
        session.acknowledged = sum(r.ok for r in session.decisions) + warm.ok
        session.stored, session.commits = stored_decisions(folder)
        session.log_ok = verify_log(folder)
        session.journal = durability_settings(folder)
    finally:
        discard(folder)
    return session


def _sequencer_label(args: argparse.Namespace) -> str:
    if args.stub_sequencer:
        return "+ a stub sequencer that writes nothing (not a product figure)"
    if args.no_sequencer:
        return "(no sequencer)"
    placed = ", on a CPU of its own" if args.reserve_sequencer_cpu else ""
    client = f"; client on CPU {args.client_cpus}" if args.client_cpus else ""
    return f"+ the sequencer process{placed}{client}"


def _median(results: list[Result], attr: str) -> float:
    values = [getattr(r, attr) for r in results if getattr(r, attr) is not None]
    return statistics.median(values) if values else float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run")
    parser.add_argument("--tool", choices=("auto", "httpx", "wrk"), default="auto")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--workers", type=int, default=1, help="server processes (`accord serve --workers N`)"
    )
    parser.add_argument(
        "--no-sequencer",
        action="store_true",
        help="record in the web process (`accord serve --no-sequencer`)",
    )
    parser.add_argument(
        "--reserve-sequencer-cpu",
        action="store_true",
        help="bind the sequencer to a CPU of its own (`accord serve --reserve-sequencer-cpu`)",
    )
    parser.add_argument(
        "--client-cpus",
        default=None,
        help="run the load generator on these CPUs (taskset list, e.g. 1)",
    )
    parser.add_argument("--requests", type=int, default=None, help="per endpoint (httpx)")
    parser.add_argument("--seconds", type=int, default=None, help="per endpoint (wrk)")
    parser.add_argument("--rounds", type=int, default=None, help="alternating rounds")
    parser.add_argument(
        "--profile", type=int, metavar="N", default=0, help="profile N in-process decisions instead"
    )
    parser.add_argument(
        "--profile-dir",
        type=Path,
        default=None,
        help="where --profile puts its database (e.g. /dev/shm)",
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="benchmark on this PostgreSQL server (in a throwaway schema) instead of SQLite",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    parser.add_argument(
        "--py-spy",
        action="store_true",
        help="sample the server with py-spy during the first decision round",
    )
    parser.add_argument(
        "--stub-sequencer",
        action="store_true",
        help="answer decisions from a stub that writes nothing (the web worker's own cost)",
    )
    parser.add_argument(
        "--py-spy-out",
        type=Path,
        default=None,
        help="keep py-spy's raw collapsed stacks in this file",
    )
    args = parser.parse_args(argv)
    if args.database_url:
        if not args.database_url.startswith("postgresql"):
            raise SystemExit(
                "--database-url takes a PostgreSQL server, e.g. "
                "postgresql+psycopg://postgres@127.0.0.1:5432/test (SQLite is the default)"
            )
        _SERVER_URL[:] = [args.database_url]
    if args.client_cpus:
        if shutil.which("taskset") is None:
            raise SystemExit("--client-cpus needs taskset (util-linux)")
        _CLIENT_CPUS[:] = ["taskset", "-c", args.client_cpus]

    if args.profile:
        profile(args.profile, args.profile_dir)
        return 0
    tool = args.tool
    if tool == "auto":
        tool = "wrk" if shutil.which("wrk") else "httpx"
    n = args.requests or (1_000 if args.quick else 5_000)
    seconds = args.seconds or (5 if args.quick else 8)
    rounds = args.rounds or (1 if args.quick else 8)
    common = {
        "tool": tool,
        "bodies": transfer_bodies(),
        "n": n,
        "seconds": seconds,
        "rounds": rounds,
        "concurrency": args.concurrency,
        "workers": args.workers,
        "sequencer": not args.no_sequencer,
        "reserve_sequencer_cpu": args.reserve_sequencer_cpu,
    }
    load_before = os.getloadavg()[0]
    product = measure(
        label="product",
        with_trivial=True,
        py_spy=args.py_spy or args.py_spy_out is not None,
        spy_out=args.py_spy_out,
        stub_sequencer=args.stub_sequencer,
        **common,  # type: ignore[arg-type]
    )
    sessions = [product]

    t_rate = _median(product.trivial, "rate")
    rows = [
        ("trivial endpoint (`POST /bench/trivial`)", product.trivial),
        ("recorded decisions (`POST /api/v1/decisions`)", product.decisions),
    ]
    load = f"{seconds} s" if tool == "wrk" else f"{n} requests"
    print(
        f"\nHTTP benchmark — {tool}, concurrency {args.concurrency}, {load} per endpoint per "
        f"round, {rounds} round(s), median shown; {args.workers} web worker(s) "
        f"{_sequencer_label(args)}; "
        f"{product.journal}; {os.cpu_count()} CPUs; load average {load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after (1 min)\n"
    )
    print(
        "| endpoint | requests/s | p50 ms | p99 ms | vs trivial | errors "
        "| CPU µs/request: web, sequencer, client"
        + (", database server |" if _SERVER_URL else " |")
    )
    print("|---|---:|---:|---:|---:|---:|---|")
    summary: dict[str, Any] = {
        "tool": tool,
        "concurrency": args.concurrency,
        "rounds": rounds,
        "workers": args.workers,
    }
    for label, results in rows:
        rate = _median(results, "rate")
        summary[label] = {
            "rps": rate,
            "p50_ms": _median(results, "p50_ms"),
            "p99_ms": _median(results, "p99_ms"),
            "errors": sum(r.errors for r in results),
            "cpu_us": {
                k: statistics.median(r.cpu_us.get(k, 0.0) for r in results)
                for k in ("web", "sequencer", "client", "database")
            },
        }
        cpu = summary[label]["cpu_us"]
        print(
            f"| {label} | {rate:,.0f} | {_median(results, 'p50_ms'):.1f} | "
            f"{_median(results, 'p99_ms'):.1f} | {rate / t_rate if t_rate else 0:.0%} | "
            f"{sum(r.errors for r in results)} | "
            f"{cpu['web']:.0f}, {cpu['sequencer']:.0f}, {cpu['client']:.0f}"
            + (f", {cpu['database']:.0f} |" if _SERVER_URL else " |")
        )
    paired = bracketed_ratios(product.trivial, product.decisions)
    if len(paired) > 1:
        print(
            "\nper round (decisions / the mean of the trivial rounds just before and after): "
            + ", ".join(f"{r:.0%}" for r in paired)
            + f"; median {statistics.median(paired):.0%}"
        )
        summary["paired_ratios"] = paired
    print("\ntargets: recorded decisions ≥ 70% of the trivial endpoint and ≥ 1,000/s")
    ok = True
    if args.stub_sequencer:
        print("stub sequencer: nothing was recorded; these are not figures of the product")
        sessions = []
    for session in sessions:
        good = session.stored >= session.acknowledged and session.log_ok
        ok = ok and good
        print(
            f"{session.label}: acknowledged decisions {session.acknowledged}, stored "
            f"{session.stored} in {session.commits} group commits "
            f"({session.stored / max(session.commits, 1):.1f} per commit); "
            f"accord log verify {'ok' if session.log_ok else 'FAILED'}"
            f"{'' if good else '  <-- PROBLEM'}"
        )
        summary[session.label] = {
            "acknowledged": session.acknowledged,
            "stored": session.stored,
            "group_commits": session.commits,
            "log_verified": session.log_ok,
        }
    if product.profile:
        print("\nwhere the server's time goes during the first decision round (py-spy):\n")
        print(product.profile)
    if args.json is not None:
        args.json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
