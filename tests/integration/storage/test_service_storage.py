"""Storage: migrations, secrets at rest, pack versions and lifecycle, atomic, concurrent writes."""

from __future__ import annotations

import copy
import hashlib
import threading
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError
from accord.service import OPERATOR, TRANSITIONS, Principal
from accord.storage.models import PackStatus, Role
from conftest import TRANSFER, make_account

PACK = """\
pack:
  id: storage-test
  title: Storage test pack
  kind: regulation
  jurisdiction: DE
  instrument: Test
  version: "{version}"
  effective_from: 2020-01-01
  confidence: confirmed
  default: permit
  sources: [https://example.org/test]
  scope: {{fact: exporter.country, op: eq, value: AQ}}
rules: []
"""


def test_migrations_are_idempotent_and_match_the_models(service: Any) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from accord.ledger.store import metadata as ledger_metadata
    from accord.storage.migrate import current, head, upgrade
    from accord.storage.models import Base

    assert current(service.db.read_engine) == head()
    assert upgrade(service.db.write_engine) == head()  # a second run changes nothing
    with service.db.read_engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn),
            [Base.metadata, ledger_metadata],  # type: ignore[arg-type]
        )
        tables = set(sa.inspect(conn).get_table_names())
    assert diff == []
    assert set(ledger_metadata.tables) <= tables
    assert {
        "orgs",
        "users",
        "api_tokens",
        "packs",
        "pack_versions",
        "pack_events",
        "transfers",
        "decisions",
        "decision_packs",
    } <= tables


def test_secrets_are_stored_only_as_hashes(service: Any) -> None:
    org = service.create_org(OPERATOR, name="Org", country="DE")
    account = make_account(
        service, email="m@x.org", role="member", org_id=org["id"], with_password=True
    )
    with service.db.read_engine.connect() as conn:
        token_rows = conn.execute(sa.text("SELECT prefix, token_hash FROM api_tokens")).all()
        password_hash = conn.execute(sa.text("SELECT password_hash FROM users")).scalar_one()
        dump = " ".join(
            str(v)
            for table in ("api_tokens", "users")
            for row in conn.execute(sa.text(f"SELECT * FROM {table}")).all()
            for v in row
        )
    assert token_rows == [(account.token[:12], hashlib.sha256(account.token.encode()).hexdigest())]
    assert account.token not in dump
    assert account.password not in dump
    assert password_hash.startswith("$argon2id$")
    assert service.authenticate_password("m@x.org", account.password) is not None
    assert service.authenticate_password("m@x.org", account.password + "x") is None
    assert service.authenticate_password("nobody@x.org", account.password) is None
    assert service.authenticate_token(account.token) is not None
    assert service.authenticate_token(account.token + "x") is None


def test_account_rules(service: Any) -> None:
    with pytest.raises(InputError) as member_without_org:
        service.create_user(OPERATOR, email="m@x.org", role=Role.MEMBER, org=None, password=None)
    assert member_without_org.value.diagnostics[0].path == "org"
    with pytest.raises(InputError):
        service.create_user(
            OPERATOR, email="not-an-email", role=Role.AUDITOR, org=None, password=None
        )
    with pytest.raises(InputError):
        service.create_org(OPERATOR, name="Org", country="Germany")
    service.create_org(OPERATOR, name="Org", country="de")
    with pytest.raises(ConflictError):
        service.create_org(OPERATOR, name="Org", country="FR")
    with pytest.raises(NotFoundError):
        service.create_user(OPERATOR, email="m@x.org", role=Role.MEMBER, org="Nope", password=None)
    with pytest.raises(InputError):
        service.issue_token(OPERATOR, user=None, name="x")  # the CLI has no user of its own
    auditor = service.create_user(
        OPERATOR, email="a@x.org", role=Role.AUDITOR, org=None, password=None
    )
    with pytest.raises(InputError):
        service.issue_token(OPERATOR, user=auditor["id"], name="x", scopes=("root",))
    with pytest.raises(PermissionDeniedError):
        service.create_org(Principal(), name="Other", country="FR")


def test_pack_versions_and_audit_trail(service: Any) -> None:
    regulator = Principal(user_id=None, email="r", role=Role.REGULATOR, via="cli")
    first = service.upload_pack(regulator, PACK.format(version="1"), source="p.yaml")
    assert (first["status"], first["current_version"]) == ("draft", 1)
    second = service.upload_pack(regulator, PACK.format(version="2"), source="p.yaml")
    assert (second["current_version"], second["latest_version"]) == (1, 2)
    assert service.get_pack("storage-test", version=2)["text"] == PACK.format(version="2")
    with pytest.raises(NotFoundError):
        service.get_pack("storage-test", version=3)
    active = service.set_pack_status(regulator, "storage-test", PackStatus.ACTIVE, version=1)
    assert (active["status"], active["current_version"]) == ("active", 1)
    switched = service.set_pack_status(regulator, "storage-test", PackStatus.ACTIVE)
    assert switched["current_version"] == 2
    with pytest.raises(ConflictError):  # already active at that version
        service.set_pack_status(regulator, "storage-test", PackStatus.ACTIVE)
    history = service.pack_history(OPERATOR, "storage-test")
    assert [(h["action"], h["version"]) for h in history] == [
        ("create", 1),
        ("upload", 2),
        ("active", 1),
        ("active", 2),
    ]
    # Changing a pack's kind is refused and writes nothing.
    before = service.count_rows()
    agreement = PACK.format(version="3").replace(
        "kind: regulation", "kind: agreement\n  parties: [DE, JP]"
    )
    with pytest.raises(ConflictError):
        service.upload_pack(regulator, agreement, source="p.yaml")
    assert service.count_rows() == before


_actions = st.lists(
    st.tuples(st.sampled_from(list(PackStatus)), st.one_of(st.none(), st.integers(1, 3))),
    max_size=8,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(actions=_actions)
def test_lifecycle_follows_the_transition_table(service: Any, actions: list[Any]) -> None:
    """Any sequence of lifecycle requests: the stored status moves only along TRANSITIONS, each
    accepted change adds exactly one audit event, each refused one changes nothing."""
    pack_id = f"lifecycle-{len(service.list_packs())}"
    text = PACK.format(version="1").replace("storage-test", pack_id)
    service.upload_pack(OPERATOR, text, source="l.yaml")
    service.upload_pack(OPERATOR, text.replace('"1"', '"2"'), source="l.yaml")
    status, current = PackStatus.DRAFT, 1
    events = len(service.pack_history(OPERATOR, pack_id))
    for target, version in actions:
        try:
            view = service.set_pack_status(OPERATOR, pack_id, target, version=version)
        except (ConflictError, NotFoundError, InputError):
            stored = service.get_pack(pack_id)
            assert (stored["status"], stored["current_version"]) == (status.value, current)
            assert len(service.pack_history(OPERATOR, pack_id)) == events
            continue
        assert target in TRANSITIONS[status]
        status, current = PackStatus(view["status"]), view["current_version"]
        assert status is target
        events += 1
        assert len(service.pack_history(OPERATOR, pack_id)) == events


def test_concurrent_decisions_keep_one_consistent_log(service: Any) -> None:
    service.ensure_shipped_packs()
    org = service.create_org(OPERATOR, name="Org", country="DE")
    account = make_account(service, email="m@x.org", role="member", org_id=org["id"])
    principal = service.authenticate_token(account.token)
    errors: list[BaseException] = []
    leaves: list[int] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        for i in range(4):
            doc = copy.deepcopy(TRANSFER)
            doc["id"] = f"t-{n}-{i}"
            try:
                made = service.decide(principal, doc)
            except BaseException as exc:  # collected and asserted below
                errors.append(exc)
                return
            with lock:
                leaves.append(made["leaf_index"])

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(leaves) == list(range(16))
    from accord.ledger.checkpoint import Verifier

    verifier = Verifier.from_text(service.ledger.verifier_key())
    report = service.ledger.reader.verify(verifiers=[verifier])
    assert report.size == 16
    assert report.signatures_checked == report.checkpoints >= 1
    assert service.count_rows()["decisions"] == 16


def test_shipped_pack_updates_follow_the_release(service: Any, monkeypatch: Any) -> None:
    import accord.service as service_module

    texts = [("packs/storage-test.yaml", PACK.format(version="1"))]
    monkeypatch.setattr(service_module, "_shipped_pack_texts", lambda: list(texts))
    assert service.ensure_shipped_packs() == ["storage-test"]
    assert service.ensure_shipped_packs() == []  # unchanged text: nothing to do
    texts[0] = ("packs/storage-test.yaml", PACK.format(version="2"))
    assert service.ensure_shipped_packs() == ["storage-test"]
    assert service.get_pack("storage-test")["current_version"] == 2
    # Once a regulator chose a version, a new release does not override it.
    service.set_pack_status(
        Principal(user_id=None, role=Role.REGULATOR, via="cli"),
        "storage-test",
        PackStatus.SUSPENDED,
    )
    texts[0] = ("packs/storage-test.yaml", PACK.format(version="3"))
    service.ensure_shipped_packs()
    stored = service.get_pack("storage-test")
    assert (stored["status"], stored["current_version"], stored["latest_version"]) == (
        "suspended",
        2,
        3,
    )
    # A broken shipped pack is skipped, not fatal.
    texts.append(("packs/broken.yaml", "pack: [unclosed"))
    service.ensure_shipped_packs()
    assert "broken" not in {p["id"] for p in service.list_packs()}


def test_settings_from_env() -> None:
    from accord.settings import Settings

    s = Settings.from_env(
        {
            "ACCORD_DATABASE_URL": "x.db",
            "ACCORD_MAX_BODY_BYTES": "2048",
            "ACCORD_SECURE_COOKIES": "yes",
            "ACCORD_ADMIN_TOKEN": "t" * 30,
        }
    )
    assert s.database_url.startswith("sqlite:///")
    assert s.database_url.endswith("/x.db")
    assert (s.max_body_bytes, s.secure_cookies, s.admin_token) == (2048, True, "t" * 30)
    assert Settings.from_env({}, database_url="postgresql+psycopg://h/db").database_url == (
        "postgresql+psycopg://h/db"
    )
    for env in (
        {"ACCORD_MAX_BODY_BYTES": "lots"},
        {"ACCORD_MAX_BODY_BYTES": "-1"},
        {"ACCORD_SECURE_COOKIES": "maybe"},
    ):
        with pytest.raises(InputError) as exc:
            Settings.from_env(env)
        assert exc.value.diagnostics[0].path == next(iter(env))


def test_group_commit_isolates_a_failing_decision(service: Any) -> None:
    """A batch that fails as a whole is retried decision by decision: the good ones are recorded,
    the bad one gets its own error, and nothing of it is written."""
    from accord.service import PendingDecision

    service.ensure_shipped_packs()
    org = service.create_org(OPERATOR, name="Org", country="DE")
    account = make_account(service, email="m@x.org", role="member", org_id=org["id"])
    principal = service.authenticate_token(account.token)
    good = service.decide(principal, TRANSFER)  # a template for the rows

    def pending(n: int, entry_type: str) -> Any:
        return PendingDecision(
            principal=principal,
            transfer_json=TRANSFER | {"id": f"batch-{n}"},
            decision_id=f"{n:032x}",
            decision=good["decision"],
            digest="0" * 64,
            outcome=good["outcome"],
            as_of=good_as_of,
            packs=good["packs"],
            entry={"type": entry_type, "body": {"n": n}},
        )

    from datetime import date

    good_as_of = date.fromisoformat(good["as_of"])
    before = service.count_rows()
    batch = [pending(1, "decision"), pending(2, "NOT A TYPE"), pending(3, "decision")]
    service._write_batch(batch)
    assert batch[0].done.result()[0] == before["ledger"]
    assert batch[2].done.result()[0] == before["ledger"] + 1
    with pytest.raises(InputError):
        batch[1].done.result()
    after = service.count_rows()
    assert after["decisions"] == before["decisions"] + 2
    assert after["transfers"] == before["transfers"] + 2
    assert after["ledger"] == before["ledger"] + 2


def test_shipped_agreements_wait_as_drafts_unless_asked(service: Any) -> None:
    from accord import packs
    from accord.storage.models import Pack

    service.ensure_shipped_packs()
    with service.db.read() as session:
        status = {p.id: (p.kind, p.status) for p in session.scalars(sa.select(Pack))}
    shipped = {p.meta.id: str(p.meta.kind) for p in packs.shipped()}
    assert set(status) == set(shipped)
    for pack_id, kind in shipped.items():
        expected = PackStatus.DRAFT if kind == "agreement" else PackStatus.ACTIVE
        assert status[pack_id] == (kind, expected.value), pack_id
    assert any(kind == "agreement" for kind in shipped.values())
