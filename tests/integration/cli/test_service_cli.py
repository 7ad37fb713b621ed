"""``accord db|orgs|users|tokens|demo`` in-process, on a SQLite file."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from accord.cli import main


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ACCORD_DATABASE_URL", raising=False)
    return str(tmp_path / "cli.db")


def test_accounts_lifecycle(capsys: pytest.CaptureFixture[str], db: str) -> None:
    code, out, _ = _run(capsys, "db", "upgrade", "--db", db)
    assert code == 0
    assert "revision" in out
    code, out, _ = _run(capsys, "db", "current", "--db", db)
    assert code == 0
    assert "current: 0006" in out
    code, out, _ = _run(capsys, "orgs", "create", "Org A", "--country", "de", "--db", db, "--json")
    assert code == 0
    org = json.loads(out)[0]
    assert (org["name"], org["country"]) == ("Org A", "DE")
    code, out, _ = _run(
        capsys,
        "users",
        "create",
        "m@a.org",
        "--role",
        "member",
        "--org",
        "Org A",
        "--password",
        "long-password",
        "--db",
        db,
        "--json",
    )
    assert code == 0
    assert json.loads(out)[0]["org_id"] == org["id"]
    code, out, _ = _run(
        capsys, "tokens", "create", "m@a.org", "--scope", "read", "--db", db, "--json"
    )
    assert code == 0
    token: dict[str, Any] = json.loads(out)
    assert token["scopes"] == ["read"]
    assert token["token"].startswith(token["prefix"])
    code, out, _ = _run(capsys, "tokens", "list", "--db", db, "--json")
    listed = json.loads(out)
    assert [t["id"] for t in listed] == [token["id"]]
    assert token["token"] not in out  # only the prefix is ever shown again
    code, out, _ = _run(capsys, "tokens", "revoke", str(token["id"]), "--db", db)
    assert code == 0
    assert "revoked" in out
    code, out, _ = _run(capsys, "users", "set-role", "m@a.org", "auditor", "--db", db)
    assert code == 0
    assert "auditor" in out
    code, out, _ = _run(capsys, "users", "list", "--db", db, "--json")
    assert json.loads(out)[0]["role"] == "auditor"
    assert _run(capsys, "users", "disable", "m@a.org", "--db", db)[0] == 0
    assert _run(capsys, "users", "enable", "m@a.org", "--db", db)[0] == 0
    assert (
        _run(capsys, "users", "set-password", "m@a.org", "--password", "another-pass", "--db", db)[
            0
        ]
        == 0
    )
    code, out, _ = _run(capsys, "orgs", "list", "--db", db, "--json")
    assert [o["name"] for o in json.loads(out)] == ["Org A"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["users", "create", "x@a.org", "--role", "wizard"], "unknown role"),
        (["users", "create", "x@a.org", "--role", "member"], "needs an organisation"),
        (["users", "create", "x@a.org", "--role", "auditor", "--password", "short"], "too short"),
        (["orgs", "create", "Org", "--country", "Germany"], "country"),
        (["tokens", "revoke", "99"], "no token"),
        (["users", "set-role", "ghost@a.org", "admin"], "no user"),
    ],
)
def test_bad_input_exits_2_without_traceback(
    capsys: pytest.CaptureFixture[str], db: str, args: list[str], needle: str
) -> None:
    code, _out, err = _run(capsys, *args, "--db", db)
    assert code == 2
    assert needle in err
    assert "Traceback" not in err


def test_demo_seeds_once(capsys: pytest.CaptureFixture[str], db: str) -> None:
    code, out, _ = _run(capsys, "demo", "--db", db, "--decisions", "24", "--no-serve")
    assert code == 0, out
    assert "seeded" in out
    assert "admin@demo.example.org" in out
    assert "admin-demo-pass" in out
    from accord.service import OPERATOR, DecisionFilter, Service
    from accord.settings import Settings

    service = Service(Settings(database_url=f"sqlite:///{db}", log_key_path="k"))
    try:
        first = service.count_rows()
        items, _ = service.list_decisions(OPERATOR, DecisionFilter(), limit=200)
        outcomes = {i["outcome"] for i in items}
        orgs = {i["org_id"] for i in items}
    finally:
        service.close()
    assert first["decisions"] >= 20  # nearly every generated transfer is valid
    assert first["ledger"] == first["decisions"]
    assert len(orgs) == 6
    assert len(outcomes) >= 2
    code, out, _ = _run(capsys, "demo", "--db", db, "--decisions", "24", "--no-serve")
    assert code == 0
    assert "reused" in out
    service = Service(Settings(database_url=f"sqlite:///{db}", log_key_path="k"))
    try:
        assert service.count_rows() == first
        # The demo sign-ins work.
        assert service.authenticate_password("auditor@demo.example.org", "auditor-demo-pass")
    finally:
        service.close()


def test_demo_is_deterministic(tmp_path: Path) -> None:
    import random

    from accord import demo

    def run() -> list[dict[str, Any]]:
        rng = random.Random(demo.SEED)
        return [demo.transfer(rng, n, "DE", "Org") for n in range(40)]

    one, two = run(), run()
    assert one == two
    assert len({t["importer"]["country"] for t in one}) >= 5
    assert len({t["transaction"] for t in one}) >= 4
    assert all(t["importer"]["country"] != "DE" for t in one)


def test_unreachable_database_is_an_error_not_a_traceback(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _out, err = _run(capsys, "db", "upgrade", "--db", str(tmp_path / "no" / "dir" / "x.db"))
    assert code == 1
    assert "cannot migrate the database" in err
    assert "Traceback" not in err


def test_serve_on_a_port_in_use_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    import socket
    import subprocess
    import sys

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-c", "import sys; from accord.cli import main; "
             "sys.exit(main(sys.argv[1:]))",
             "serve", "--db", str(tmp_path / "s.db"), "--port", str(port)],
            capture_output=True, text=True, timeout=120, cwd=tmp_path,
            env={**os.environ, "ACCORD_LOG_KEY": str(tmp_path / "log.key")},
        )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "--port" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
