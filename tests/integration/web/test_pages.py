"""The HTML pages: each role sees what it may, tenancy holds, forms need CSRF tokens, validate."""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.errors import Diagnostic
from accord.policy.ast import Atomic, Logical, LogicalOp, ThresholdRef
from accord.service import OPERATOR, Service
from accord.settings import Settings
from accord.storage.models import PackStatus, Role
from accord.web import pages

PASSWORD = "correct-horse-1"
TEST_PACK = """\
pack:
  id: web-test
  title: Web test regulation
  kind: regulation
  jurisdiction: US
  instrument: Test Act
  version: "1"
  effective_from: 2020-01-01
  default: permit
  sources: [https://example.org/test-act]
  scope: {fact: exporter.country, op: eq, value: US}
thresholds:
  bulk-genomic:
    fact: data.subjects.human-genomic
    op: gt
    value: 100
    citation: Test Act s.2
rules:
  - id: no-bulk-genomic-to-cn
    kind: prohibition
    text: Bulk human genomic data may not go to China.
    citation: Test Act s.3
    source: https://example.org/test-act#s3
    when:
      and:
        - {fact: importer.country, op: eq, value: CN}
        - {threshold: bulk-genomic}
  - id: no-covered-person
    kind: prohibition
    text: Transfers to covered persons are prohibited.
    citation: Test Act s.4
    source: https://example.org/test-act#s4
    when: {fact: importer.covered_person, op: eq, value: true}
  - id: vendor-with-records
    kind: permission
    text: Vendor agreements are permitted if records are kept.
    citation: Test Act s.5
    source: https://example.org/test-act#s5
    when: {fact: transaction, op: eq, value: vendor}
    duties:
      - id: keep-records
        text: Keep records of the transfer for ten years.
        citation: Test Act s.6
        source: https://example.org/test-act#s6
        deadline: P10Y
"""


def _app(service: Service, settings: Settings) -> FastAPI:
    """The product app when it exists; the pages are mounted on it by its factory."""
    from accord.web.app import create_app

    return create_app(settings, service=service)


class Browser:
    """A synchronous in-process client keeping cookies (httpx over the ASGI transport)."""

    def __init__(self, app: FastAPI) -> None:
        self._runner = asyncio.Runner()
        self._client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://testserver",
            follow_redirects=True,
        )

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self._runner.run(self._client.get(url, **kwargs))

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self._runner.run(self._client.post(url, **kwargs))

    def close(self) -> None:
        self._runner.run(self._client.aclose())
        self._runner.close()


@dataclass
class World:
    service: Service
    app: FastAPI
    tmp: Path
    browsers: list[Browser] = field(default_factory=list)

    def browser(self) -> Browser:
        browser = Browser(self.app)
        self.browsers.append(browser)
        return browser

    @cached_property
    def client(self) -> Browser:
        """A member of Acme, signed in (shared by the examples of a property test)."""
        return _client(self, "a@acme.example")

    @cached_property
    def token(self) -> str:
        return _csrf(self.client.get("/check").text)


def _settings(folder: Path) -> Settings:
    return Settings(
        database_url=f"sqlite:///{folder / 'pages.db'}",
        log_key_path=str(folder / "log.key"),
        secret_key="test-secret",
    )


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database seeded once per module (organisations, users, packs); tests copy it."""
    folder = tmp_path_factory.mktemp("seed")
    service = Service(_settings(folder))
    try:
        _app(service, _settings(folder))  # stores the shipped packs, as the real app does
        # Only the test pack decides here, so expected outcomes do not move with shipped packs.
        for pack in service.list_packs(status=PackStatus.ACTIVE.value):
            service.set_pack_status(OPERATOR, pack["id"], PackStatus.SUSPENDED)
        service.upload_pack(OPERATOR, TEST_PACK, source="web-test.yaml")
        service.set_pack_status(OPERATOR, "web-test", PackStatus.ACTIVE)
        for name in ("Acme", "Globex"):
            service.create_org(OPERATOR, name=name, country="US")
        for email, role, org in (
            ("admin@example.org", Role.ADMIN, None),
            ("regulator@example.org", Role.REGULATOR, None),
            ("auditor@example.org", Role.AUDITOR, None),
            ("a@acme.example", Role.MEMBER, "Acme"),
            ("b@globex.example", Role.MEMBER, "Globex"),
        ):
            service.create_user(OPERATOR, email=email, role=role, org=org, password=PASSWORD)
    finally:
        service.close()
    return folder


@pytest.fixture
def world(seeded: Path, tmp_path: Path) -> Iterator[World]:
    for item in seeded.iterdir():
        shutil.copy2(item, tmp_path / item.name)
    settings = _settings(tmp_path)
    service = Service(settings)
    world = World(service=service, app=_app(service, settings), tmp=tmp_path)
    try:
        yield world
    finally:
        for browser in world.browsers:
            browser.close()
        service.close()


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def _client(world: World, email: str | None) -> Browser:
    client = world.browser()
    if email is not None:
        token = _csrf(client.get("/sign-in").text)
        response = client.post(
            "/sign-in",
            data={"csrf_token": token, "email": email, "password": PASSWORD, "next": "/"},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
    return client


def _member_decision(world: World, email: str = "a@acme.example", **overrides: Any) -> str:
    """Submit a transfer through the service as a member; the stored decision's id."""
    principal = world.service.authenticate_password(email, PASSWORD)
    assert principal is not None
    document = {
        "id": "tx-1",
        "date": "2026-01-15",
        "exporter": {"country": "US", "kind": "company"},
        "importer": {"country": "DE", "kind": "company", "covered_person": False},
        "data": {"categories": ["human-genomic"], "subjects": {"human-genomic": 10}},
        "transaction": "vendor",
        **overrides,
    }
    return str(world.service.decide(principal, document)["id"])


def _check_form(token: str, **fields: str | list[str]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "csrf_token": token,
        "mode": "form",
        "exporter.country": "US",
        "exporter.kind": "company",
        "importer.country": "DE",
        "importer.kind": "company",
        "importer.covered_person": "false",
        "category": ["human-genomic", ""],
        "count": ["10", ""],
        "transaction": "vendor",
        "date": "2026-01-15",
    }
    data.update(fields)
    return data


# ------------------------------------------------------------------ every page, every role

ROLES = [
    None,
    "admin@example.org",
    "regulator@example.org",
    "auditor@example.org",
    "a@acme.example",
]
#: path → roles that get the page (200); the public is sent to sign in, other roles get 403.
PAGES = {
    "/": set(ROLES),
    "/packs": set(ROLES),
    "/packs/web-test": set(ROLES),
    "/log": set(ROLES),
    "/check": {"admin@example.org", "a@acme.example"},
    "/decisions": {
        "admin@example.org",
        "regulator@example.org",
        "auditor@example.org",
        "a@acme.example",
    },
}


@pytest.mark.parametrize("email", ROLES, ids=lambda e: e or "public")
def test_each_page_renders_for_each_role(world: World, email: str | None) -> None:
    _member_decision(world)
    client = _client(world, email)
    for path, allowed in PAGES.items():
        response = client.get(path, follow_redirects=False)
        if email in allowed:
            assert response.status_code == 200, (path, response.text[:500])
            assert response.headers["content-type"].startswith("text/html")
            assert "<main" in response.text
            assert ("Sign out" in response.text) == (email is not None)
        elif email is None:
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/sign-in?next=")
        else:
            assert response.status_code == 403, path
            assert "Not allowed" in response.text


def test_navigation_offers_only_what_the_role_may_do(world: World) -> None:
    auditor = _client(world, "auditor@example.org").get("/").text
    member = _client(world, "a@acme.example").get("/").text
    public = _client(world, None).get("/").text
    assert 'href="/check"' in member
    assert 'href="/decisions"' in member
    assert 'href="/decisions"' in auditor
    assert '<a href="/check"' not in auditor
    assert '<a href="/decisions"' not in public


def test_public_landing_shows_aggregates_only(world: World) -> None:
    decision_id = _member_decision(world)
    html = _client(world, None).get("/").text
    assert "decisions recorded" in html
    assert re.search(r'class="n">1</span><span class="l">decisions recorded', html)
    assert decision_id not in html
    assert "tx-1" not in html


# ------------------------------------------------------------------ tenancy


def test_member_cannot_open_another_organisations_decision(world: World) -> None:
    decision_id = _member_decision(world, "a@acme.example")
    own = _client(world, "a@acme.example").get(f"/decisions/{decision_id}")
    assert own.status_code == 200
    assert "tx-1" in own.text
    other = _client(world, "b@globex.example").get(f"/decisions/{decision_id}")
    assert other.status_code == 404
    assert "tx-1" not in other.text
    assert "Not found" in other.text
    listing = _client(world, "b@globex.example").get("/decisions")
    assert decision_id not in listing.text
    assert _client(world, "auditor@example.org").get(f"/decisions/{decision_id}").status_code == 200


def test_public_cannot_open_a_decision(world: World) -> None:
    decision_id = _member_decision(world)
    response = _client(world, None).get(f"/decisions/{decision_id}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/sign-in")


# ------------------------------------------------------------------ CSRF


def test_posts_without_a_csrf_token_are_refused(world: World) -> None:
    client = _client(world, "a@acme.example")
    token = _csrf(client.get("/check").text)
    before = world.service.count_rows()["decisions"]
    for bad in (None, "", "forged-" + token):
        data = _check_form(token)
        if bad is None:
            del data["csrf_token"]
        else:
            data["csrf_token"] = bad
        response = client.post("/check", data=data)
        assert response.status_code == 403
        assert "form has expired" in response.text
    assert world.service.count_rows()["decisions"] == before
    response = client.post("/sign-out", data={}, follow_redirects=False)
    assert response.status_code == 403
    assert "Sign out" in client.get("/").text  # still signed in


def test_sign_in_without_a_csrf_token_is_refused(world: World) -> None:
    client = world.browser()
    client.get("/sign-in")
    response = client.post(
        "/sign-in", data={"email": "a@acme.example", "password": PASSWORD}, follow_redirects=False
    )
    assert response.status_code == 403
    assert "Sign out" not in client.get("/").text


def test_a_token_from_another_session_is_refused(world: World) -> None:
    first = _client(world, "a@acme.example")
    second = _client(world, "a@acme.example")
    token = _csrf(first.get("/check").text)
    assert second.post("/check", data=_check_form(token)).status_code == 403


# ------------------------------------------------------------------ sign in and out


def test_sign_in_with_a_wrong_password_shows_a_message(world: World) -> None:
    client = world.browser()
    token = _csrf(client.get("/sign-in").text)
    response = client.post(
        "/sign-in", data={"csrf_token": token, "email": "a@acme.example", "password": "nope-nope"}
    )
    assert response.status_code == 401
    assert "do not match" in response.text
    assert 'aria-invalid="true"' in response.text
    assert 'value="a@acme.example"' in response.text


def test_sign_in_follows_only_local_next_urls(world: World) -> None:
    for target, expected in (("/decisions", "/decisions"), ("//evil.example/x", "/")):
        client = world.browser()
        token = _csrf(client.get("/sign-in").text)
        response = client.post(
            "/sign-in",
            data={
                "csrf_token": token,
                "email": "a@acme.example",
                "password": PASSWORD,
                "next": target,
            },
            follow_redirects=False,
        )
        assert response.headers["location"] == expected


def test_sign_out_ends_the_session(world: World) -> None:
    client = _client(world, "a@acme.example")
    token = _csrf(client.get("/").text)
    response = client.post("/sign-out", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert client.get("/check", follow_redirects=False).status_code == 303


# ------------------------------------------------------------------ checking a transfer


def test_check_records_a_decision_with_obligations_and_receipt(world: World) -> None:
    client = _client(world, "a@acme.example")
    token = _csrf(client.get("/check").text)
    response = client.post("/check", data=_check_form(token))
    assert response.status_code == 200, response.text
    html = response.text
    assert 'data-outcome="permit_with_obligations"' in html
    assert "Keep records of the transfer for ten years." in html
    assert "10 years" in html
    assert 'href="https://example.org/test-act#s6"' in html
    leaf = re.search(r'data-leaf-index="(\d+)"', html)
    assert leaf is not None
    assert int(leaf.group(1)) == world.service.count_rows()["ledger"] - 1
    assert "accord log bundle --index" in html


def test_the_check_page_records_through_the_sequencer(world: World, tmp_path: Path) -> None:
    """With a sequencer, the page validates in the web process (errors point into the form)
    and the sequencer records."""
    from accord.web.app import create_app
    from conftest import InThreadSequencer

    settings = _settings(world.tmp)
    runner = InThreadSequencer(settings, tmp_path / "sequencer.sock").start()
    app = create_app(settings.with_(sequencer_socket=str(runner.path)), service=world.service)
    client = Browser(app)
    try:
        token = _csrf(client.get("/sign-in").text)
        signed = client.post(
            "/sign-in",
            data={"csrf_token": token, "email": "a@acme.example", "password": PASSWORD},
            follow_redirects=False,
        )
        assert signed.status_code == 303, signed.text
        token = _csrf(client.get("/check").text)
        html = client.post("/check", data=_check_form(token)).text
        assert 'data-outcome="permit_with_obligations"' in html
        assert "Keep records of the transfer for ten years." in html
        assert sum(runner.service.recorded.values()) == 1  # the sequencer recorded it
        assert sum(world.service.recorded.values()) == 1  # and this process counted it
        before = world.service.count_rows()
        bad = client.post("/check", data=_check_form(token, **{"importer.country": "XX"}))
        assert bad.status_code == 422
        assert "XX" in bad.text
        assert world.service.count_rows() == before
        assert sum(runner.service.recorded.values()) == 1
    finally:
        client._runner.run(app.state.recorder.aclose())
        client.close()
        runner.stop()


def test_check_denies_with_the_citation(world: World) -> None:
    client = _client(world, "a@acme.example")
    token = _csrf(client.get("/check").text)
    data = _check_form(token, **{"importer.country": "CN", "count": ["150", ""]})
    html = client.post("/check", data=data).text
    assert 'data-outcome="deny"' in html
    assert "Test Act s.3" in html
    assert 'href="https://example.org/test-act#s3"' in html


def test_unknown_fact_gives_indeterminate_naming_it(world: World) -> None:
    client = _client(world, "a@acme.example")
    token = _csrf(client.get("/check").text)
    data = _check_form(token, **{"importer.covered_person": ""})
    html = client.post("/check", data=data).text
    assert 'data-outcome="indeterminate"' in html
    # The missing fact links to the form field that answers it.
    link = f'<a href="#{pages.field_id("importer.covered_person")}"><code>importer.covered_person'
    assert link in html


def test_packs_not_applied_are_listed_with_why(world: World) -> None:
    client = _client(world, "a@acme.example")
    token = _csrf(client.get("/check").text)
    html = client.post("/check", data=_check_form(token, **{"exporter.country": "DE"})).text
    assert "Not applied" in html
    assert "web-test" in html


def test_htmx_request_gets_only_the_check_area(world: World) -> None:
    client = _client(world, "a@acme.example")
    token = _csrf(client.get("/check").text)
    response = client.post("/check", data=_check_form(token), headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div class="grid check" id="check-area">')
    assert "<html" not in response.text
    assert 'data-outcome="permit_with_obligations"' in response.text


def test_form_errors_are_shown_next_to_their_fields(world: World) -> None:
    client = _client(world, "a@acme.example")
    token = _csrf(client.get("/check").text)
    before = world.service.count_rows()["decisions"]
    data = _check_form(
        token, **{"importer.country": "", "count": ["ten", ""], "date": "2026-13-45"}
    )
    response = client.post("/check", data=data)
    assert response.status_code == 422
    html = response.text
    for name in ("importer.country", "count-0", "date"):
        fid = pages.field_id(name)
        assert f'id="{fid}-error"' in html, name
        assert re.search(rf'id="{fid}"[^>]*aria-invalid="true"', html, re.S), name
    assert "Traceback" not in html
    assert world.service.count_rows()["decisions"] == before


def test_unknown_vocabulary_is_reported_on_its_field(world: World) -> None:
    client = _client(world, "a@acme.example")
    token = _csrf(client.get("/check").text)
    response = client.post("/check", data=_check_form(token, transaction="vendr"))
    assert response.status_code == 422
    assert f'id="{pages.field_id("transaction")}-error"' in response.text


def test_the_htmx_form_keeps_errors_in_a_200_answer(world: World) -> None:
    client = _client(world, "a@acme.example")
    token = _csrf(client.get("/check").text)
    data = _check_form(token, **{"exporter.country": ""})
    response = client.post("/check", data=data, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert f'id="{pages.field_id("exporter.country")}-error"' in response.text


def test_pasted_document_is_decided(world: World) -> None:
    client = _client(world, "a@acme.example")
    token = _csrf(client.get("/check?mode=document").text)
    document = (
        "id: pasted-1\n"
        "date: 2026-01-15\n"
        "exporter: {country: US, kind: company}\n"
        "importer: {country: CN, kind: company, covered_person: false}\n"
        "data: {categories: [human-genomic], subjects: {human-genomic: 500}}\n"
    )
    html = client.post(
        "/check", data={"csrf_token": token, "mode": "document", "document": document}
    ).text
    assert 'data-outcome="deny"' in html
    assert "pasted-1" in html


@pytest.mark.parametrize(
    ("document", "needle"),
    [
        ("exporter: [unclosed\n", "Line "),
        ("- just\n- a list\n", "transfer document"),
        (
            "id: x\nexporter: {country: US}\nimporter: {country: CN}\n"
            "data: {categories: [human-genomik]}\n",
            "Line 4",
        ),
        ("", "Paste a transfer document"),
    ],
)
def test_pasted_document_errors_are_located(world: World, document: str, needle: str) -> None:
    client = _client(world, "a@acme.example")
    token = _csrf(client.get("/check?mode=document").text)
    response = client.post(
        "/check", data={"csrf_token": token, "mode": "document", "document": document}
    )
    assert response.status_code == 422
    assert needle in response.text
    assert f'id="{pages.field_id("document")}-error"' in response.text


# ------------------------------------------------------------------ decisions, packs, log


def test_decisions_are_paginated_and_filtered(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pages, "PAGE_SIZE", 2)
    ids = [_member_decision(world, id=f"tx-{i}") for i in range(3)]
    denied = _member_decision(
        world,
        id="tx-deny",
        importer={"country": "CN", "covered_person": False},
        data={"categories": ["human-genomic"], "subjects": {"human-genomic": 500}},
    )
    client = _client(world, "a@acme.example")
    first = client.get("/decisions").text
    assert denied in first
    assert ids[2] in first
    assert ids[0] not in first
    next_url = re.search(r'href="(/decisions\?[^"]*cursor=[^"]*)"', first)
    assert next_url is not None
    second = client.get(next_url.group(1).replace("&amp;", "&")).text
    assert ids[1] in second
    assert ids[0] in second
    assert denied not in second
    only_deny = client.get("/decisions?outcome=deny").text
    assert denied in only_deny
    assert not any(i in only_deny for i in ids)
    assert client.get("/decisions?outcome=bogus").status_code == 200


def test_decision_page_shows_the_transfer_and_receipt(world: World) -> None:
    decision_id = _member_decision(world)
    html = _client(world, "a@acme.example").get(f"/decisions/{decision_id}").text
    assert "data-leaf-index" in html
    assert "BEGIN" not in html
    assert "human-genomic" in html


def test_pack_page_lists_rules_citations_and_thresholds(world: World) -> None:
    html = _client(world, None).get("/packs/web-test").text
    for needle in (
        "Web test regulation",
        "no-bulk-genomic-to-cn",
        "Test Act s.3",
        "https://example.org/test-act#s3",
        "data.subjects.human-genomic &gt; 100",
        'href="#threshold-bulk-genomic"',
        'id="threshold-bulk-genomic"',
        "<code>importer.country</code> is <strong>CN</strong>",
        "2020-01-01",
        "within 10 years",
    ):
        assert needle in html, needle
    assert "Web test regulation" in _client(world, None).get("/packs").text


def test_unknown_pack_is_a_friendly_404(world: World) -> None:
    response = _client(world, None).get("/packs/no-such-pack")
    assert response.status_code == 404
    assert "Not found" in response.text


def test_log_page_shows_checkpoint_key_and_steps(world: World) -> None:
    _member_decision(world)
    html = _client(world, None).get("/log").text
    latest = world.service.ledger.reader.latest_checkpoint()
    assert latest is not None
    assert latest.note.splitlines()[0] in html
    assert world.service.ledger.verifier_key() in html
    assert "accord log verify-bundle" in html
    assert "accord log bundle --index 0" in html


def test_static_files_are_served_and_contained(world: World) -> None:
    client = _client(world, None)
    css = client.get(pages.static_url("accord.css"))
    assert css.status_code == 200
    assert "text/css" in css.headers["content-type"]
    js = client.get(pages.static_url("vendor/htmx.min.js"))
    assert js.status_code == 200
    assert "htmx" in js.text[:200]
    assert client.get("/static/../pages.py").status_code == 404
    assert client.get("/static/%2e%2e/pages.py").status_code == 404


def test_no_page_loads_anything_from_another_host() -> None:
    for template in Path(pages.TEMPLATES_DIR).rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        for match in re.finditer(r'(?:src|href)="(https?:)?//', text):
            raise AssertionError(f"{template.name} loads from another host: {match.group(0)}")


# ------------------------------------------------------------------ presentation helpers


def test_describe_renders_constraint_trees() -> None:
    tree = Logical(
        LogicalOp.AND,
        (
            Atomic("transaction", "eq", "vendor"),
            Logical(
                LogicalOp.OR,
                (ThresholdRef("bulk"), Atomic("importer.country", "isAnyOf", ("CN", "RU"))),
            ),
            Logical(LogicalOp.NOT, (Atomic("safeguards", "isAllOf", ("group:cisa",)),)),
        ),
    )
    assert pages.describe(tree) == (
        "transaction is vendor and (threshold bulk or importer.country includes any of CN, RU)"
        " and not (safeguards includes all of group cisa)"
    )
    assert pages.describe(None) == "always"


@given(
    years=st.integers(0, 50),
    months=st.integers(0, 11),
    days=st.integers(0, 400),
)
@settings(max_examples=60, deadline=None)
def test_duration_label_reads_every_part(years: int, months: int, days: int) -> None:
    text = "P" + "".join(f"{n}{u}" for n, u in ((years, "Y"), (months, "M"), (days, "D")) if n)
    label = pages.duration_label(text)
    if text == "P":
        assert label == "P"
        return
    for n, unit in ((years, "year"), (months, "month"), (days, "day")):
        if n:
            assert f"{n} {unit}{'' if n == 1 else 's'}" in label


@given(
    path=st.one_of(
        st.sampled_from([*pages.SINGLE_FIELDS, *pages.MULTI_FIELDS]),
        st.builds(lambda i: f"data.categories[{i}]", st.integers(0, 30)),
        st.text(max_size=30),
    )
)
@settings(max_examples=100, deadline=None)
def test_every_diagnostic_lands_on_a_field_or_the_summary(path: str) -> None:
    state = pages.FormState(rows=[pages.CategoryRow("human-genomic", "3")])
    pages.apply_diagnostics(state, [Diagnostic("bad", path=path)], "fallback")
    assert len(state.summary) == 1
    name = state.summary[0]["field"]
    if path in pages.SINGLE_FIELDS or path in pages.MULTI_FIELDS:
        assert name == path
    if path.startswith("data.categories["):
        assert name == f"category-{path[len('data.categories[') : -1]}"
    if name:
        assert state.errors[name].endswith(".")


@given(
    rows=st.lists(
        st.tuples(st.sampled_from(["", "human-genomic", "biometric"]), st.text(max_size=5)),
        max_size=6,
    )
)
@settings(max_examples=100, deadline=None)
def test_form_never_invents_facts(rows: list[tuple[str, str]]) -> None:
    form = {
        "mode": "form",
        "exporter.country": "US",
        "importer.country": "CN",
        "category": [r[0] for r in rows],
        "count": [r[1] for r in rows],
    }
    state = pages.read_form(form)
    document = pages.form_to_document(state)
    assert "covered_person" not in document["importer"]
    assert "transaction" not in document
    assert "occasional" not in document
    for category, count in document["data"].get("subjects", {}).items():
        assert category in document["data"]["categories"]
        assert count >= 0
    if not state.errors:
        filled = [r for r in rows if r[0] or r[1].strip()]
        assert len(document["data"]["categories"]) == len(filled)


def test_more_facts_reach_the_document() -> None:
    form = {
        "mode": "form",
        "exporter.country": "US",
        "exporter.group": "acme",
        "importer.country": "DE",
        "importer.adversary_controlled": "false",
        "data.government_related": "false",
        "data.subject_countries": ["US", "CA"],
        "exemptions_claimed": ["dsp-travel"],
        "category": ["biometric"],
        "count": ["7"],
    }
    state = pages.read_form(form)
    document = pages.form_to_document(state)
    assert not state.errors
    assert document["exporter"] == {"country": "US", "group": "acme"}
    assert document["importer"] == {"country": "DE", "adversary_controlled": False}
    assert document["data"] == {
        "categories": ["biometric"],
        "subjects": {"biometric": 7},
        "government_related": False,
        "subject_countries": ["US", "CA"],
    }
    assert document["exemptions_claimed"] == ["dsp-travel"]
    bad = pages.read_form({**form, "data.de_identified": "maybe"})
    pages.form_to_document(bad)
    assert "data.de_identified" in bad.errors


_ANY = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)


@given(
    fields=st.fixed_dictionaries(
        {},
        optional={
            name: st.one_of(_ANY, st.sampled_from(["US", "CN", "true", "vendor", "biometric"]))
            for name in (*pages.SINGLE_FIELDS, "category", "count", "purposes", "mode")
        },
    ),
    document=_ANY,
)
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_form_input_breaks_the_check_page(
    world: World, fields: dict[str, str], document: str
) -> None:
    client = world.client
    response = client.post(
        "/check", data={"csrf_token": world.token, "document": document, **fields}
    )
    assert response.status_code in (200, 422), response.text[:500]
    assert "Traceback" not in response.text
    assert "<main" in response.text
