"""Decisions recorded by a sequencer process: the web app forwards, the sequencer decides, writes.

Most tests run the sequencer's server in a thread of this process (its own event loop, its own
:class:`Service` on the same database), which lets them reach inside; one runs the real child
process that ``accord serve`` supervises, kills it and watches it come back.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from accord.ledger.bundle import verify_bundle
from accord.ledger.checkpoint import Verifier
from conftest import TRANSFER, Client, InThreadSequencer, World


@pytest.fixture
def sequencer(settings: Any, app: Any, world: World, tmp_path: Path) -> Iterator[InThreadSequencer]:
    # `app` stored the shipped packs and `world` the accounts, in the same database.
    runner = InThreadSequencer(settings, tmp_path / "sequencer.sock").start()
    try:
        yield runner
    finally:
        runner.stop()


@pytest.fixture
def remote_app(settings: Any, service: Any, sequencer: InThreadSequencer) -> Any:
    from accord.web.app import create_app

    return create_app(settings.with_(sequencer_socket=str(sequencer.path)), service=service)


def _close(client: Client, app: Any) -> None:
    """Close the app's connection to the sequencer on the client's loop, then the client."""
    client._loop.run_until_complete(app.state.recorder.aclose())
    client.close()


@pytest.fixture
def remote(remote_app: Any) -> Iterator[Client]:
    c = Client(remote_app)
    try:
        yield c
    finally:
        _close(c, remote_app)


def _body(**changes: Any) -> dict[str, Any]:
    transfer = copy.deepcopy(TRANSFER)
    transfer.update(changes)
    return {"transfer": transfer}


async def _post_many(app: Any, headers: dict[str, str], n: int) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        try:
            return list(
                await asyncio.gather(
                    *(
                        client.post("/api/v1/decisions", json=_body(id=f"seq-{i}"), headers=headers)
                        for i in range(n)
                    )
                )
            )
        finally:
            await app.state.recorder.aclose()


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_concurrent_decisions_are_recorded_by_the_sequencer(
    remote_app: Any, service: Any, sequencer: InThreadSequencer, world: World, loop: str
) -> None:
    """Also under uvloop (what `uvicorn[standard]` runs): its transports are not
    asyncio.Transport instances."""
    from accord.cli import main as cli_main
    from accord.sequencer.client import RemoteRecorder

    assert isinstance(remote_app.state.recorder, RemoteRecorder)
    before = service.count_rows()
    import uvloop

    factory = uvloop.new_event_loop if loop == "uvloop" else asyncio.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        responses = runner.run(_post_many(remote_app, world["member_a"].headers, 24))
    assert [r.status_code for r in responses] == [201] * 24, responses[0].text
    views = [r.json() for r in responses]
    assert sorted(v["transfer_id"] for v in views) == sorted(f"seq-{i}" for i in range(24))
    assert len({v["leaf_index"] for v in views}) == 24
    verifier = Verifier.from_text(service.ledger.verifier_key())
    for view in views:
        verified = verify_bundle(view["receipt"], verifier)
        assert verified.leaf_index == view["leaf_index"]
        assert view["org_id"] == world.org_a
        assert view["decision"]["outcome"] == view["outcome"]
    after = service.count_rows()
    assert after["decisions"] == before["decisions"] + 24
    # The sequencer wrote them, and this process's counter (for /metrics) counts what it sent.
    assert sequencer.service.recorded
    assert sum(sequencer.service.recorded.values()) == 24
    assert sum(service.recorded.values()) == 24
    stored = {d["id"]: d for d in service.list_decisions(_admin(service), _filter())[0]}
    for view in views:
        assert stored[view["id"]]["digest"] == view["digest"]
    db = service.settings.database_url
    assert cli_main(["log", "verify", "--db", db]) == 0


def test_a_recorder_moved_to_a_new_event_loop_starts_afresh(
    remote_app: Any, service: Any, world: World
) -> None:
    """Frames queued on a loop that stopped before sending them are dropped, not sent on the new
    loop's connection, and the new loop's requests go out (nothing waits for a send that the old
    loop will never run)."""
    recorder = remote_app.state.recorder
    with asyncio.Runner() as runner:
        first = runner.run(_post_many(remote_app, world["member_a"].headers, 2))
    assert [r.status_code for r in first] == [201, 201]
    # As if the old loop had stopped between queueing a frame and sending it.
    recorder._outbox.append(b"a frame the old loop never sent")
    recorder._sending = True
    before = service.count_rows()["decisions"]
    with asyncio.Runner() as runner:
        second = runner.run(
            asyncio.wait_for(_post_many(remote_app, world["member_a"].headers, 3), timeout=30)
        )
    assert [r.status_code for r in second] == [201] * 3, second[0].text
    assert service.count_rows()["decisions"] == before + 3


def _admin(service: Any) -> Any:
    from accord.service import OPERATOR

    return OPERATOR


def _filter() -> Any:
    from accord.service import DecisionFilter

    return DecisionFilter()


@pytest.mark.parametrize(
    ("body", "path"),
    [
        (b'{"transfer": ', "body"),
        (b"[]", "body"),
        (json.dumps(_body(purpose="x")).encode(), "body.transfer.purpose"),
        (json.dumps({**_body(), "as_of": "soon"}).encode(), "body.as_of"),
        (json.dumps(_body(id="nul\u0000here")).encode(), "body.transfer.id"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(
    remote: Client, service: Any, world: World, body: bytes, path: str
) -> None:
    before = service.count_rows()
    response = remote.post(
        "/api/v1/decisions",
        content=body,
        headers={**world["member_a"].headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 422
    assert path in [e.get("path") for e in problem["errors"]], problem
    assert service.count_rows() == before


def test_callers_who_may_not_submit_are_refused_before_the_sequencer(
    settings: Any, service: Any, app: Any, world: World, tmp_path: Path
) -> None:
    from accord.web.app import create_app

    # No sequencer listens on this socket: a refused caller must not get as far as trying.
    lonely = create_app(
        settings.with_(sequencer_socket=str(tmp_path / "nobody.sock")), service=service
    )
    client = Client(lonely)
    try:
        body = _body()
        assert client.post("/api/v1/decisions", json=body).status_code == 401
        auditor = client.post("/api/v1/decisions", json=body, headers=world["auditor"].headers)
        assert auditor.status_code == 403
        down = client.post("/api/v1/decisions", json=body, headers=world["member_a"].headers)
        assert down.status_code == 503
        assert down.headers["content-type"].startswith("application/problem+json")
        assert "sequencer" in down.json()["detail"]
    finally:
        _close(client, lonely)


def test_a_pack_change_applies_to_the_next_decision(
    remote: Client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    import accord.service

    # Decisions are made in the web process, which sees its own pack changes at once (the
    # periodic re-check for other processes' changes is pushed out of the way here).
    monkeypatch.setattr(accord.service, "ENGINE_RECHECK_SECONDS", 3600.0)
    member = world["member_a"].headers
    first = remote.post("/api/v1/decisions", json=_body(), headers=member)
    assert first.status_code == 201, first.text
    applied = first.json()["packs"]
    assert applied
    pack = applied[0]
    changed = remote.post(
        f"/api/v1/packs/{pack}/suspend", json={"note": "test"}, headers=world["regulator"].headers
    )
    assert changed.status_code == 200, changed.text
    second = remote.post("/api/v1/decisions", json=_body(), headers=member)
    assert second.status_code == 201, second.text
    assert pack not in second.json()["packs"]


def _children_named(parent: int, marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and any(marker.encode() in part for part in cmdline):
            found.append(int(entry.name))
    return found


def test_the_supervised_sequencer_process_is_restarted_after_a_crash(
    settings: Any, service: Any, app: Any, world: World
) -> None:
    from accord.sequencer.process import SequencerProcess
    from accord.web.app import create_app

    env = {
        **os.environ,
        "ACCORD_DATABASE_URL": settings.database_url,
        "ACCORD_LOG_KEY": settings.log_key_path,
        "ACCORD_LOG_ORIGIN": settings.log_origin,
        "ACCORD_SECRET_KEY": settings.secret_key,
    }
    env.pop("ACCORD_SEQUENCER_SOCKET", None)
    service.ledger.verifier_key()  # the key exists before two processes could race to create it
    process = SequencerProcess(env)
    path = process.start()
    web = create_app(settings.with_(sequencer_socket=str(path)), service=service)
    client = Client(web)
    member = world["member_a"].headers
    try:
        ok = client.post("/api/v1/decisions", json=_body(id="before"), headers=member)
        assert ok.status_code == 201, ok.text
        [pid] = _children_named(os.getpid(), "accord.sequencer")
        os.kill(pid, signal.SIGKILL)
        statuses = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            response = client.post("/api/v1/decisions", json=_body(id="after"), headers=member)
            statuses.append(response.status_code)
            if response.status_code == 201:
                break
            assert response.status_code == 503, response.text
            time.sleep(0.1)
        assert statuses[-1] == 201, statuses
        assert process.restarts == 1
        [new_pid] = _children_named(os.getpid(), "accord.sequencer")
        assert new_pid != pid
    finally:
        _close(client, web)
        process.stop()
    assert _children_named(os.getpid(), "accord.sequencer") == []
    assert not path.exists()
