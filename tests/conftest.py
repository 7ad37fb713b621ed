"""Shared fixtures: a database per test (SQLite in tmp_path, and PostgreSQL in a fresh random
schema), the service, the app, an HTTP client, and users with API tokens for every role.

``db_url`` is parametrised over ``sqlite`` and ``postgresql``: every test that uses it (directly or
through ``service``/``app``/``client``/``world``) runs against both. PostgreSQL comes from env
``ACCORD_TEST_PG_URL``; each test gets its own schema (random name), dropped afterwards, because
other suites use the same database at the same time.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

PG_URL = os.environ.get("ACCORD_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

#: A transfer that every shipped pack can read (the example of docs/transfer.md, trimmed).
TRANSFER: dict[str, Any] = {
    "id": "tx-test-0001",
    "date": "2026-11-28",
    "exporter": {"name": "Exporter", "country": "DE", "kind": "company", "role": "controller"},
    "importer": {
        "name": "Importer",
        "country": "US",
        "kind": "company",
        "role": "processor",
        "covered_person": False,
    },
    "data": {
        "categories": ["customer-records"],
        "subjects": {"customer-records": 5000},
        "subject_countries": ["DE"],
        "government_related": False,
    },
    "purposes": ["hosting"],
    "transaction": "vendor",
    "mechanisms": ["scc-2021-module-2"],
    "safeguards": ["encryption-in-transit"],
    "occasional": False,
}


@cache
def _pg_reachable() -> str | None:
    """``None`` when PostgreSQL answers, else why not."""
    try:
        engine = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any driver or network failure means "not available"
        return f"{type(exc).__name__}: {exc}"
    return None


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL: a SQLite file, or a new PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'accord.db'}"
        return
    reason = _pg_reachable()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL at ACCORD_TEST_PG_URL is not reachable: {reason}")
        pytest.skip(f"PostgreSQL at ACCORD_TEST_PG_URL is not reachable: {reason}")
    schema = "accord_t_" + secrets.token_hex(6)
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Any:
    """Service settings on the test database, with a key file in tmp_path."""
    from accord.settings import Settings

    return Settings(
        database_url=db_url,
        secret_key="test-secret-key-" + secrets.token_hex(8),
        log_key_path=str(tmp_path / "log.key"),
        log_origin="accord.test/log",
    )


@pytest.fixture
def service(settings: Any) -> Iterator[Any]:
    """A migrated :class:`~accord.service.Service` (packs not yet stored)."""
    from accord.service import Service

    svc = Service(settings)
    try:
        yield svc
    finally:
        svc.close()


@pytest.fixture
def app(settings: Any, service: Any) -> Any:
    """The FastAPI app (shipped packs stored)."""
    from accord.web.app import create_app

    return create_app(settings, service=service)


class Client:
    """A synchronous in-process HTTP client over httpx's ASGI transport (keeps cookies)."""

    def __init__(self, app: Any, base_url: str = "http://testserver") -> None:
        self._loop = asyncio.new_event_loop()
        self._client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Send one request and wait for the answer."""
        return self._loop.run_until_complete(self._client.request(method, url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    @property
    def cookies(self) -> httpx.Cookies:
        return self._client.cookies

    def close(self) -> None:
        self._loop.run_until_complete(self._client.aclose())
        self._loop.close()


@pytest.fixture
def client(app: Any) -> Iterator[Client]:
    """An in-process HTTP client for the app."""
    c = Client(app)
    try:
        yield c
    finally:
        c.close()


@dataclass
class Account:
    """A user of the test world, with an API token."""

    email: str
    role: str
    org_id: int | None
    user_id: int
    token: str
    password: str

    @property
    def headers(self) -> dict[str, str]:
        """``Authorization: Bearer`` for this account."""
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class World:
    """Two organisations (A in DE, B in JP) and one account per role (members in A and B)."""

    org_a: int
    org_b: int
    accounts: dict[str, Account] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Account:
        return self.accounts[name]


def make_account(
    service: Any,
    *,
    email: str,
    role: str,
    org_id: int | None,
    scopes: tuple[str, ...] = (),
    with_password: bool = False,
) -> Account:
    """Create a user and an API token for it; with a password ``password-<role>`` if asked
    (argon2 hashing is deliberately slow, so only where a test signs in)."""
    from accord.service import OPERATOR
    from accord.storage.models import Role

    password = f"password-{role}"
    user = service.create_user(
        OPERATOR,
        email=email,
        role=Role(role),
        org=org_id,
        password=password if with_password else None,
    )
    _view, secret = service.issue_token(
        OPERATOR, user=int(user["id"]), name="test", scopes=scopes or ("read", "write")
    )
    return Account(email, role, org_id, int(user["id"]), secret, password)


@pytest.fixture
def world(app: Any, service: Any) -> World:
    """Organisations A and B and accounts: admin, regulator, auditor, member_a, member_b
    (only member_a has a password)."""
    from accord.service import OPERATOR

    org_a = int(service.create_org(OPERATOR, name="Org A", country="DE")["id"])
    org_b = int(service.create_org(OPERATOR, name="Org B", country="JP")["id"])
    w = World(org_a, org_b)
    for name, role, org in (
        ("admin", "admin", None),
        ("regulator", "regulator", None),
        ("auditor", "auditor", None),
        ("member_a", "member", org_a),
        ("member_b", "member", org_b),
    ):
        w.accounts[name] = make_account(
            service,
            email=f"{name}@test.example.org",
            role=role,
            org_id=org,
            with_password=name == "member_a",
        )
    return w


class InThreadSequencer:
    """:func:`accord.sequencer.server.serve` in a background thread, on its own service."""

    def __init__(self, settings: Any, path: Path) -> None:
        from accord.service import Service

        self.path = path
        self.service = Service(settings, migrate=False)
        self.loop = asyncio.new_event_loop()
        self.stop_event: asyncio.Event | None = None
        self._ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        from accord.sequencer.server import serve

        asyncio.set_event_loop(self.loop)
        self.stop_event = asyncio.Event()
        try:
            self.loop.run_until_complete(
                serve(self.service, self.path, stop=self.stop_event, ready=self._ready.set)
            )
        finally:
            self.loop.close()

    def start(self) -> InThreadSequencer:
        self.thread.start()
        assert self._ready.wait(30), "the sequencer did not start"
        return self

    def stop(self) -> None:
        if self.stop_event is not None and self.thread.is_alive():
            self.loop.call_soon_threadsafe(self.stop_event.set)
        self.thread.join(30)
        self.service.close()
