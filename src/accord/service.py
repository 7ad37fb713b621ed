"""Orchestration: evaluate a transfer → record the decision in the ledger → persist, in ONE
transaction.

The web layer and the CLI call this module only; it holds the access rules (who may do what, and
tenancy: a member sees only its own organisation's transfers and decisions), so the rules are
enforced in one place whatever the entry point. See ``docs/roles.md``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.errors import (
    ConflictError,
    Diagnostic,
    InputError,
    NotFoundError,
    PackError,
    PermissionDeniedError,
    StorageError,
)
from accord.ledger.entries import Entry, canonical_json
from accord.settings import Settings
from accord.storage import accounts
from accord.storage.bulk import BulkInsert
from accord.storage.db import Database, JSONText
from accord.storage.ledger_bridge import AppendedBatch, LedgerBridge
from accord.storage.migrate import upgrade
from accord.storage.models import (
    ApiToken,
    DecisionPack,
    DecisionRecord,
    Org,
    Pack,
    PackEvent,
    PackStatus,
    PackVersion,
    Role,
    TransferRecord,
    User,
    new_id,
    utcnow,
)

ENTRY_SCHEMA = "accord.entry/1"
_log = logging.getLogger("accord.service")


class Capability(StrEnum):
    """Something a role may do. The role × capability table is ``docs/roles.md``."""

    SUBMIT = "decisions:submit"
    READ_OWN = "decisions:read-own-org"
    READ_ALL = "decisions:read-all"
    MANAGE_PACKS = "packs:manage"
    READ_AUDIT = "audit:read"
    READ_ACCOUNTS = "accounts:read"
    MANAGE_ACCOUNTS = "accounts:manage"


#: What each role may do (the public — anonymous callers — may do none of these).
CAPABILITIES: dict[Role, frozenset[Capability]] = {
    Role.ADMIN: frozenset(Capability),
    Role.REGULATOR: frozenset(
        {Capability.READ_ALL, Capability.MANAGE_PACKS, Capability.READ_AUDIT}
    ),
    Role.AUDITOR: frozenset({Capability.READ_ALL, Capability.READ_AUDIT, Capability.READ_ACCOUNTS}),
    Role.MEMBER: frozenset({Capability.SUBMIT, Capability.READ_OWN}),
}
#: Capabilities that change state: an API token needs the ``write`` scope for them.
WRITE_CAPABILITIES = frozenset(
    {Capability.SUBMIT, Capability.MANAGE_PACKS, Capability.MANAGE_ACCOUNTS}
)

#: Lifecycle transitions allowed: from → set of to.
TRANSITIONS: dict[PackStatus, frozenset[PackStatus]] = {
    PackStatus.DRAFT: frozenset({PackStatus.ACTIVE, PackStatus.EXPIRED}),
    PackStatus.ACTIVE: frozenset({PackStatus.ACTIVE, PackStatus.SUSPENDED, PackStatus.EXPIRED}),
    PackStatus.SUSPENDED: frozenset({PackStatus.ACTIVE, PackStatus.EXPIRED}),
    PackStatus.EXPIRED: frozenset(),
}


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a user (through a token or a session) or the anonymous public."""

    user_id: int | None = None
    email: str | None = None
    role: Role | None = None
    org_id: int | None = None
    via: str = "anonymous"  # "token" | "session" | "anonymous" | "cli"
    scopes: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_anonymous(self) -> bool:
        """True for the public."""
        return self.role is None

    def can(self, capability: Capability) -> bool:
        """Whether this caller holds ``capability`` (role, then token scope)."""
        if self.role is None or capability not in CAPABILITIES[self.role]:
            return False
        return not (
            self.via == "token" and capability in WRITE_CAPABILITIES and "write" not in self.scopes
        )

    def require(self, *capabilities: Capability) -> None:
        """Raise :class:`PermissionDeniedError` unless the caller holds one of ``capabilities``."""
        if any(self.can(c) for c in capabilities):
            return
        who = "the public" if self.role is None else f"role {self.role.value}"
        raise PermissionDeniedError(
            "not allowed",
            [
                Diagnostic(
                    f"{who} may not do this",
                    expected=" or ".join(c.value for c in capabilities),
                    found=who
                    if self.via != "token"
                    else f"{who} (token scopes: {', '.join(sorted(self.scopes)) or 'none'})",
                )
            ],
        )


ANONYMOUS = Principal()
# Statements of the group commit, built once.
_INSERT_TRANSFERS = BulkInsert(
    TransferRecord.__table__,
    ("id", "external_id", "org_id", "submitted_by", "document", "created_at"),
)
_INSERT_DECISIONS = BulkInsert(
    DecisionRecord.__table__,
    ("id", "transfer_id", "org_id", "outcome", "as_of", "decision", "digest", "leaf_index",
     "created_at"),
)  # fmt: skip
_INSERT_DECISION_PACKS = BulkInsert(DecisionPack.__table__, ("pack_id", "leaf_index"))
#: Most decisions written in one group-commit transaction.
MAX_BATCH = 256
#: How often (seconds) the compiled engine checks the database for pack changes made elsewhere.
ENGINE_RECHECK_SECONDS = 1.0
#: How long (seconds) an authenticated API token is trusted without a database read. Revoking a
#: token, changing a role or disabling a user through this process empties the cache at once;
#: changes made by another process (``accord tokens revoke``, another worker) apply within this.
TOKEN_CACHE_SECONDS = 1.0
#: Most tokens the in-process cache holds (it is emptied when full).
TOKEN_CACHE_SIZE = 4096
#: How often (seconds) a token's ``last_used_at`` is written.
TOKEN_TOUCH_SECONDS = 60.0
#: A cached token used within this many seconds of its entry's expiry (or due a ``last_used_at``
#: write) is checked against the database again in the background while the entry still
#: answers, so a token in steady use never misses the cache: without this, every request in
#: flight when the entry expired went to the database at once, each in a thread.
TOKEN_REFRESH_AHEAD_SECONDS = 0.25


@dataclass(slots=True)
class PendingDecision:
    """A decided transfer waiting for the group commit."""

    principal: Principal
    transfer_json: dict[str, Any]
    decision_id: str
    decision: dict[str, Any]
    digest: str
    outcome: str
    as_of: date
    packs: list[str]
    entry: dict[str, Any]
    #: RFC 8785 bytes of ``transfer_json`` and ``decision`` (computed once, stored as they are).
    transfer_bytes: bytes | None = None
    decision_bytes: bytes | None = None
    #: The log entry's canonical bytes (the leaf data).
    entry_bytes: bytes | None = None
    #: The receipt as JSON bytes, when the writer rendered it so (its view then has no
    #: ``"receipt"``: :func:`accord.web.recording.finish` splices these bytes into the answer).
    receipt_json: bytes | None = None
    _future: Future[tuple[int, dict[str, Any]]] | None = field(default=None, repr=False)

    @property
    def done(self) -> Future[tuple[int, dict[str, Any]]]:
        """The outcome of the write: ``(leaf index, view)`` once committed, or the error. Made on
        first use (a worker that hands its decisions to the sequencer never needs one)."""
        future = self._future
        if future is None:
            future = self._future = Future()
        return future


#: The command line acting with full rights on the local database.
OPERATOR = Principal(email="cli", role=Role.ADMIN, via="cli")


@dataclass(frozen=True, slots=True)
class DecisionFilter:
    """Filters of the decision listing."""

    outcome: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    pack: str | None = None
    org_id: int | None = None


def _packs_applied(decision: Mapping[str, Any]) -> list[str]:
    packs = decision.get("packs") or []
    out: list[str] = []
    for item in packs:
        if isinstance(item, Mapping) and item.get("applied") and isinstance(item.get("id"), str):
            out.append(item["id"])
    return sorted(set(out))


class Service:
    """The service's operations, each one transaction, each checked against the caller."""

    def __init__(self, settings: Settings, *, migrate: bool = True) -> None:
        self.settings = settings
        self.db = Database(settings.database_url)
        if migrate:
            upgrade(self.db.write_engine)
        self.ledger = LedgerBridge(
            self.db, key_path=settings.log_key_path, origin=settings.log_origin
        )
        self._engine_lock = threading.Lock()
        self._engine_key: tuple[tuple[str, int], ...] | None = None
        self._engine: Any = None
        self._token_touch: dict[int, datetime] = {}
        #: sha256(token) → (principal, token id, monotonic expiry, monotonic time from which a use
        #: starts a background check); see TOKEN_CACHE_SECONDS and TOKEN_REFRESH_AHEAD_SECONDS.
        self._tokens: dict[str, tuple[Principal, int, float, float]] = {}
        self._tokens_lock = threading.Lock()
        #: Digests of the tokens being checked again in the background (one check per token).
        self._refreshing: set[str] = set()
        self._refresher: ThreadPoolExecutor | None = None
        #: Bumped (after commit) by every change that can invalidate a cached token.
        self._accounts_generation = 0
        self._pending: list[PendingDecision] = []
        #: Organisation id → name, for decision views (filled as decisions are recorded).
        self._org_names: dict[int, str] = {}
        #: Decisions recorded by this process, by outcome (for ``/metrics``).
        self.recorded: dict[str, int] = {}
        #: Bumped by every pack change made through this process; other processes' changes are
        #: noticed by a query at most every ENGINE_RECHECK_SECONDS.
        self._pack_generation = 0
        self._engine_seen: tuple[int, float] = (-1, 0.0)
        self._pending_cond = threading.Condition()
        self._writer: threading.Thread | None = None
        self._closed = False

    def close(self) -> None:
        """Write the decisions still queued, stop the writer, release the database connections."""
        with self._pending_cond:
            self._closed = True
            self._pending_cond.notify_all()
            writer = self._writer
        if writer is not None and writer is not threading.current_thread():
            writer.join(timeout=60)
        with self._tokens_lock:
            refresher, self._refresher = self._refresher, None
        if refresher is not None:
            refresher.shutdown(wait=True)
        self.db.dispose()

    # ------------------------------------------------------------------ bootstrap

    def ensure_shipped_packs(self, *, activate_agreements: bool = False) -> list[str]:
        """Store every shipped pack not stored yet at version 1; return the ids added.

        Regulations are stored active. A shipped agreement binds only its parties, so it is stored
        as a draft for a regulator to activate, unless ``activate_agreements`` (the demo world).
        """
        texts = _shipped_pack_texts()
        added: list[str] = []
        with self.db.write() as session:
            known = set(session.scalars(select(Pack.id)))
            stored = set(session.scalars(select(PackVersion.sha256)))
            for source, text in texts:
                if hashlib.sha256(text.encode("utf-8")).hexdigest() in stored:
                    continue
                try:
                    parsed = _parse_pack(text, source=source)
                except PackError as exc:  # a broken shipped pack must not stop the service
                    _log.error("shipped pack skipped: %s", exc.render())
                    continue
                if parsed.meta.id in known:
                    if self._refresh_shipped(session, parsed, text):
                        added.append(parsed.meta.id)
                    continue
                status = PackStatus.ACTIVE
                if str(parsed.meta.kind) == "agreement" and not activate_agreements:
                    status = PackStatus.DRAFT
                self._store_version(session, parsed, text, actor_id=None, status=status)
                added.append(parsed.meta.id)
        if added:
            self._pack_generation += 1
        return added

    def _refresh_shipped(self, session: Session, parsed: Any, text: str) -> bool:
        """Store a shipped pack's new text as a new version; it goes in force only while the
        pack is active at a shipped (not uploaded) version, so a regulator's choice stands."""
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        pack = session.get(Pack, parsed.meta.id)
        if pack is None or pack.kind != str(parsed.meta.kind):
            return False
        if session.scalar(
            select(PackVersion.id).where(
                PackVersion.pack_id == pack.id, PackVersion.sha256 == digest
            )
        ):
            return False
        current = session.scalar(
            select(PackVersion).where(
                PackVersion.pack_id == pack.id, PackVersion.number == pack.current_version
            )
        )
        version = self._store_version(
            session, parsed, text, actor_id=None, status=PackStatus.ACTIVE
        )
        if (
            pack.status == PackStatus.ACTIVE.value
            and current is not None
            and current.uploaded_by is None
        ):
            session.add(
                PackEvent(
                    pack_id=pack.id,
                    action="ship",
                    from_status=pack.status,
                    to_status=pack.status,
                    version=version.number,
                    actor_id=None,
                    at=utcnow(),
                )
            )
            pack.current_version = version.number
        return True

    def ensure_admin_token(self, raw_token: str, *, email: str) -> bool:
        """Make sure an admin holding this token exists (``ACCORD_ADMIN_TOKEN``); True if new."""
        with self.db.write() as session:
            if accounts.find_token(session, raw_token) is not None:
                return False
            try:
                user = accounts.get_user(session, email)
            except NotFoundError:
                user = accounts.create_user(session, email=email, role=Role.ADMIN, org_id=None)
            if user.role != Role.ADMIN.value:
                raise ConflictError(
                    f"{email} exists and is not an admin",
                    [Diagnostic("not an admin", path="ACCORD_ADMIN_EMAIL", found=user.role)],
                )
            accounts.issue_token(session, user_id=user.id, name="bootstrap", secret=raw_token)
            return True

    # ------------------------------------------------------------------ authentication

    def principal_for_user(self, user: User, *, via: str, scopes: Iterable[str] = ()) -> Principal:
        """The :class:`Principal` of a stored user."""
        return Principal(
            user_id=user.id,
            email=user.email,
            role=Role(user.role),
            org_id=user.org_id,
            via=via,
            scopes=frozenset(scopes),
        )

    def cached_principal(self, raw: str) -> Principal | None:
        """The caller behind a bearer token authenticated less than TOKEN_CACHE_SECONDS ago, with
        no I/O; ``None`` when the token must be checked against the database
        (:meth:`authenticate_token`): unknown, or its entry expired.

        An entry within TOKEN_REFRESH_AHEAD_SECONDS of its expiry, or due a ``last_used_at``
        write, still answers, and one background check of the token renews it (or, if the token
        was revoked meanwhile, drops it): an entry is never trusted past its own expiry."""
        digest = accounts.token_digest(raw)
        hit = self._tokens.get(digest)
        if hit is None:
            return None
        principal, _token_id, expires, refresh_at = hit
        now = time.monotonic()
        if now >= expires:
            return None
        if now >= refresh_at:
            self._refresh_soon(raw, digest)
        return principal

    def _refresh_soon(self, raw: str, digest: str) -> None:
        """Check a cached token against the database in a background thread, once at a time."""
        with self._tokens_lock:
            if digest in self._refreshing or self._closed:
                return
            self._refreshing.add(digest)
            if self._refresher is None:
                self._refresher = ThreadPoolExecutor(1, thread_name_prefix="accord-tokens")
            refresher = self._refresher
        refresher.submit(self._refresh, raw, digest)

    def _refresh(self, raw: str, digest: str) -> None:
        try:
            if self._check_token(raw) is None:  # revoked or disabled since it was cached
                with self._tokens_lock:
                    self._tokens.pop(digest, None)
        except Exception:  # the entry expires as usual; the next miss reports the problem
            _log.warning("could not check a cached token again", exc_info=True)
        finally:
            with self._tokens_lock:
                self._refreshing.discard(digest)

    def forget_tokens(self) -> None:
        """Empty the token cache (after a revocation, a role change, a disabled user)."""
        with self._tokens_lock:
            self._accounts_generation += 1
            self._tokens.clear()

    def authenticate_token(self, raw: str) -> Principal | None:
        """The caller behind a bearer token, or ``None`` (unknown, revoked, inactive user)."""
        if "\x00" in raw:
            return None
        cached = self.cached_principal(raw)
        if cached is not None:
            return cached
        return self._check_token(raw)

    def _check_token(self, raw: str) -> Principal | None:
        """:meth:`authenticate_token` from the database, caching the answer."""
        generation = self._accounts_generation  # read before the database: see forget_tokens
        with self.db.read() as session:
            token = accounts.find_token(session, raw)
            if token is None:
                return None
            user = session.get(User, token.user_id)
            if user is None or not user.active:
                return None
            principal = self.principal_for_user(user, via="token", scopes=token.scopes)
            token_id = token.id
        now = utcnow()
        last = self._token_touch.get(token_id)
        if last is None or now - last > timedelta(seconds=TOKEN_TOUCH_SECONDS):
            self._token_touch[token_id] = last = now
            with self.db.write() as session:
                stored = session.get(ApiToken, token_id)
                if stored is not None:
                    stored.last_used_at = now
        with self._tokens_lock:
            # A revocation committed after our read bumped the generation: do not cache.
            if generation == self._accounts_generation:
                if len(self._tokens) >= TOKEN_CACHE_SIZE:
                    self._tokens.clear()
                expires = time.monotonic() + TOKEN_CACHE_SECONDS
                # Checked again in the background from shortly before the entry expires, or once
                # its last_used_at is due a write, whichever comes first.
                touch_in = TOKEN_TOUCH_SECONDS - (utcnow() - last).total_seconds()
                refresh_at = min(expires - TOKEN_REFRESH_AHEAD_SECONDS, time.monotonic() + touch_in)
                self._tokens[accounts.token_digest(raw)] = (
                    principal,
                    token_id,
                    expires,
                    refresh_at,
                )
        return principal

    def authenticate_password(self, email: str, password: str) -> Principal | None:
        """The user with this email and password, or ``None`` (same answer for both failures)."""
        _no_nul(email, "email")
        with self.db.read() as session:
            user = session.scalar(select(User).where(User.email == email.strip().lower()))
            ok = accounts.verify_password(user.password_hash if user else None, password)
            if user is None or not ok or not user.active:
                return None
            return self.principal_for_user(user, via="session")

    def principal_for_user_id(self, user_id: int, *, via: str = "session") -> Principal | None:
        """The principal of an active user by id (sessions store the id), or ``None``."""
        with self.db.read() as session:
            user = session.get(User, user_id)
            if user is None or not user.active:
                return None
            return self.principal_for_user(user, via=via)

    # ------------------------------------------------------------------ accounts

    def create_org(self, principal: Principal, *, name: str, country: str) -> dict[str, Any]:
        """Add an organisation."""
        principal.require(Capability.MANAGE_ACCOUNTS)
        _no_nul({"name": name, "country": country}, "")
        with self.db.write() as session:
            return _org_view(accounts.create_org(session, name=name, country=country))

    def list_orgs(self, principal: Principal) -> list[dict[str, Any]]:
        """Every organisation (members see only their own)."""
        query = select(Org).order_by(Org.id)
        if not principal.can(Capability.READ_ALL) and not principal.can(Capability.READ_ACCOUNTS):
            principal.require(Capability.READ_OWN)
            query = query.where(Org.id == principal.org_id)
        with self.db.read() as session:
            return [_org_view(o) for o in session.scalars(query)]

    def create_user(
        self,
        principal: Principal,
        *,
        email: str,
        role: Role,
        org: int | str | None,
        password: str | None,
    ) -> dict[str, Any]:
        """Add a user."""
        principal.require(Capability.MANAGE_ACCOUNTS)
        _no_nul({"email": email, "org": org, "password": password}, "")
        with self.db.write() as session:
            org_id = accounts.get_org(session, org).id if org is not None else None
            user = accounts.create_user(
                session, email=email, role=role, org_id=org_id, password=password
            )
            return _user_view(user)

    def list_users(self, principal: Principal) -> list[dict[str, Any]]:
        """Every user."""
        principal.require(Capability.READ_ACCOUNTS)
        with self.db.read() as session:
            return [_user_view(u) for u in session.scalars(select(User).order_by(User.id))]

    def set_role(self, principal: Principal, user: int | str, role: Role) -> dict[str, Any]:
        """Change a user's role."""
        principal.require(Capability.MANAGE_ACCOUNTS)
        try:
            with self.db.write() as session:
                stored = accounts.get_user(session, user)
                if role is Role.MEMBER and stored.org_id is None:
                    raise InputError(
                        "a member needs an organisation",
                        [Diagnostic("no organisation", path="role", found=role.value)],
                    )
                stored.role = role.value
                return _user_view(stored)
        finally:  # after the commit (see authenticate_token)
            self.forget_tokens()

    def set_password(self, principal: Principal, user: int | str, password: str) -> None:
        """Set a user's password (admins, or the user itself)."""
        with self.db.write() as session:
            stored = accounts.get_user(session, user)
            if stored.id != principal.user_id:
                principal.require(Capability.MANAGE_ACCOUNTS)
            stored.password_hash = accounts.hash_password(password)

    def set_active(self, principal: Principal, user: int | str, active: bool) -> dict[str, Any]:
        """Enable or disable a user (a disabled user's tokens and sessions stop working)."""
        principal.require(Capability.MANAGE_ACCOUNTS)
        try:
            with self.db.write() as session:
                stored = accounts.get_user(session, user)
                stored.active = active
                return _user_view(stored)
        finally:  # after the commit (see authenticate_token)
            self.forget_tokens()

    def issue_token(
        self,
        principal: Principal,
        *,
        user: int | str | None = None,
        name: str,
        scopes: Sequence[str] = accounts.SCOPES,
    ) -> tuple[dict[str, Any], str]:
        """Create an API token (for oneself, or for anyone as admin). Returns (view, secret)."""
        if principal.is_anonymous:
            principal.require(Capability.MANAGE_ACCOUNTS)
        _no_nul({"name": name, "user": user, "scopes": list(scopes)}, "")
        with self.db.write() as session:
            if user is None:
                if principal.user_id is None:
                    raise InputError("whose token?", [Diagnostic("no user given", path="user")])
                target = accounts.get_user(session, principal.user_id)
            else:
                target = accounts.get_user(session, user)
            if target.id != principal.user_id:
                principal.require(Capability.MANAGE_ACCOUNTS)
            _require_write_scope(principal)
            issued = accounts.issue_token(
                session, user_id=target.id, name=name, scopes=tuple(scopes)
            )
            return _token_view(issued.token, target.email), issued.secret

    def list_tokens(self, principal: Principal, *, all_users: bool = False) -> list[dict[str, Any]]:
        """Tokens of the caller (or everyone's, for admins and auditors)."""
        query = select(ApiToken, User.email).join(User, User.id == ApiToken.user_id)
        if all_users:
            principal.require(Capability.READ_ACCOUNTS)
        else:
            if principal.user_id is None:
                principal.require(Capability.READ_ACCOUNTS)
            query = query.where(ApiToken.user_id == principal.user_id)
        with self.db.read() as session:
            rows = session.execute(query.order_by(ApiToken.id)).all()
            return [_token_view(t, email) for t, email in rows]

    def revoke_token(self, principal: Principal, token_id: int) -> dict[str, Any]:
        """Revoke a token (one's own, or anyone's as admin)."""
        if principal.is_anonymous:
            principal.require(Capability.MANAGE_ACCOUNTS)
        _require_write_scope(principal)
        try:
            with self.db.write() as session:
                token = session.get(ApiToken, token_id)
                mine = token is not None and token.user_id == principal.user_id
                if token is None or not (mine or principal.can(Capability.MANAGE_ACCOUNTS)):
                    raise NotFoundError(
                        f"no token {token_id}", [Diagnostic("not found", path="token_id")]
                    )
                accounts.revoke_token(session, token_id)
                user = session.get(User, token.user_id)
                return _token_view(token, user.email if user else "")

        # ------------------------------------------------------------------ packs
        finally:  # after the commit (see authenticate_token)
            self.forget_tokens()

    def upload_pack(self, principal: Principal, text: str, *, source: str) -> dict[str, Any]:
        """Validate a pack text and store it as a new version (new packs start as drafts)."""
        principal.require(Capability.MANAGE_PACKS)
        _no_nul({"text": text, "filename": source}, "")
        parsed = _parse_pack(text, source=source)
        with self.db.write() as session:
            self._pack_generation += 1
            version = self._store_version(
                session, parsed, text, actor_id=principal.user_id, status=PackStatus.DRAFT
            )
            pack = session.get(Pack, parsed.meta.id)
            assert pack is not None
            return _pack_view(pack, latest=version.number) | {
                "uploaded_version": _version_view(version)
            }

    def _store_version(
        self, session: Session, parsed: Any, text: str, *, actor_id: int | None, status: PackStatus
    ) -> PackVersion:
        meta = parsed.meta
        pack = session.get(Pack, meta.id)
        now = utcnow()
        if pack is None:
            pack = Pack(
                id=meta.id,
                kind=str(meta.kind),
                title=meta.title,
                jurisdiction=str(meta.jurisdiction),
                status=status.value,
                current_version=1,
                created_at=now,
                updated_at=now,
            )
            session.add(pack)
            session.flush()
            number = 1
            action = "create" if status is PackStatus.DRAFT else "ship"
            session.add(
                PackEvent(
                    pack_id=pack.id,
                    action=action,
                    from_status=None,
                    to_status=status.value,
                    version=1,
                    actor_id=actor_id,
                    at=now,
                )
            )
        else:
            if pack.kind != str(meta.kind):
                raise ConflictError(
                    f"pack {meta.id} is a {pack.kind}, not a {meta.kind}",
                    [
                        Diagnostic(
                            "kind changed",
                            path="pack.kind",
                            expected=pack.kind,
                            found=str(meta.kind),
                        )
                    ],
                )
            number = (
                session.scalar(
                    select(func.max(PackVersion.number)).where(PackVersion.pack_id == pack.id)
                )
                or 0
            ) + 1
            pack.updated_at = now
            session.add(
                PackEvent(
                    pack_id=pack.id,
                    action="upload",
                    from_status=pack.status,
                    to_status=pack.status,
                    version=number,
                    actor_id=actor_id,
                    at=now,
                )
            )
        version = PackVersion(
            pack_id=pack.id,
            number=number,
            declared_version=str(meta.version),
            text=text,
            sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
            uploaded_by=actor_id,
            uploaded_at=now,
        )
        session.add(version)
        session.flush()
        return version

    def list_packs(
        self, *, kind: str | None = None, status: str | None = None
    ) -> list[dict[str, Any]]:
        """Every pack (public): id, kind, title, status, version in force, latest version."""
        latest = (
            select(PackVersion.pack_id, func.max(PackVersion.number).label("latest"))
            .group_by(PackVersion.pack_id)
            .subquery()
        )
        query = select(Pack, latest.c.latest).join(latest, latest.c.pack_id == Pack.id)
        if kind is not None:
            query = query.where(Pack.kind == kind)
        if status is not None:
            query = query.where(Pack.status == status)
        with self.db.read() as session:
            return [_pack_view(p, latest=n) for p, n in session.execute(query.order_by(Pack.id))]

    def get_pack(self, pack_id: str, *, version: int | None = None) -> dict[str, Any]:
        """A pack with the text of ``version`` (default: the version in force)."""
        with self.db.read() as session:
            pack = _get_pack(session, pack_id)
            number = version if version is not None else pack.current_version
            stored = session.scalar(
                select(PackVersion).where(
                    PackVersion.pack_id == pack_id, PackVersion.number == number
                )
            )
            if stored is None:
                raise NotFoundError(
                    f"pack {pack_id} has no version {number}",
                    [Diagnostic("no such version", path="version", found=str(number))],
                )
            latest = session.scalar(
                select(func.max(PackVersion.number)).where(PackVersion.pack_id == pack_id)
            )
            return _pack_view(pack, latest=latest or number) | {
                "version": _version_view(stored),
                "text": stored.text,
            }

    def pack_versions(self, pack_id: str) -> list[dict[str, Any]]:
        """Every stored version of a pack, oldest first."""
        with self.db.read() as session:
            _get_pack(session, pack_id)
            rows = session.scalars(
                select(PackVersion)
                .where(PackVersion.pack_id == pack_id)
                .order_by(PackVersion.number)
            )
            return [_version_view(v) for v in rows]

    def pack_history(self, principal: Principal, pack_id: str) -> list[dict[str, Any]]:
        """The audit trail of a pack: who changed what, when."""
        principal.require(Capability.READ_AUDIT)
        with self.db.read() as session:
            _get_pack(session, pack_id)
            rows = session.execute(
                select(PackEvent, User.email)
                .outerjoin(User, User.id == PackEvent.actor_id)
                .where(PackEvent.pack_id == pack_id)
                .order_by(PackEvent.id)
            ).all()
            return [_event_view(e, email) for e, email in rows]

    def set_pack_status(
        self,
        principal: Principal,
        pack_id: str,
        status: PackStatus,
        *,
        version: int | None = None,
        note: str | None = None,
    ) -> dict[str, Any]:
        """Move a pack through its lifecycle (activating a version puts it in force)."""
        principal.require(Capability.MANAGE_PACKS)
        _no_nul({"pack_id": pack_id, "note": note}, "")
        with self.db.write() as session:
            pack = _get_pack(session, pack_id)
            current = PackStatus(pack.status)
            latest = (
                session.scalar(
                    select(func.max(PackVersion.number)).where(PackVersion.pack_id == pack_id)
                )
                or 1
            )
            number = pack.current_version
            if status is PackStatus.ACTIVE:
                number = version if version is not None else latest
                if not 1 <= number <= latest:
                    raise NotFoundError(
                        f"pack {pack_id} has no version {number}",
                        [
                            Diagnostic(
                                "no such version",
                                path="version",
                                found=str(number),
                                expected=f"1..{latest}",
                            )
                        ],
                    )
            elif version is not None and version != pack.current_version:
                raise InputError(
                    "a version applies only to activation",
                    [Diagnostic("unexpected version", path="version", found=str(version))],
                )
            if status not in TRANSITIONS[current] or (
                status is current and number == pack.current_version
            ):
                raise ConflictError(
                    f"pack {pack_id} cannot go from {current.value} to {status.value}",
                    [
                        Diagnostic(
                            "transition not allowed",
                            path="status",
                            found=current.value,
                            expected=", ".join(sorted(s.value for s in TRANSITIONS[current]))
                            or "nothing (expired is final)",
                        )
                    ],
                )
            now = utcnow()
            session.add(
                PackEvent(
                    pack_id=pack_id,
                    action=status.value,
                    from_status=current.value,
                    to_status=status.value,
                    version=number,
                    actor_id=principal.user_id,
                    note=note,
                    at=now,
                )
            )
            pack.status = status.value
            pack.current_version = number
            pack.updated_at = now
            self._pack_generation += 1
            return _pack_view(pack, latest=latest)

    def warm_up(self) -> None:
        """Do now what the first decision would otherwise pay for: compile the active packs."""
        self._engine_for_active_packs()

    def _engine_for_active_packs(self) -> Any:
        """The compiled engine over the active packs (recompiled when they change)."""
        generation, checked = self._engine_seen
        now = time.monotonic()
        if (
            self._engine is not None
            and generation == self._pack_generation
            and now - checked < ENGINE_RECHECK_SECONDS
        ):
            return self._engine
        seen = (self._pack_generation, now)
        with self.db.read() as session:
            rows = session.execute(
                select(Pack.id, Pack.current_version)
                .where(Pack.status == PackStatus.ACTIVE.value)
                .order_by(Pack.id)
            ).all()
            key = tuple((r[0], r[1]) for r in rows)
            with self._engine_lock:
                if key == self._engine_key and self._engine is not None:
                    self._engine_seen = seen
                    return self._engine
                texts = session.execute(
                    select(PackVersion.pack_id, PackVersion.number, PackVersion.text).where(
                        PackVersion.pack_id.in_([k[0] for k in key])
                    )
                ).all()
                wanted = dict(key)
                packs = [
                    _parse_pack(text, source=f"{pid}@{num}")
                    for pid, num, text in sorted(texts)
                    if wanted.get(pid) == num
                ]
                from accord.policy import compile_packs

                self._engine = compile_packs(packs)
                self._engine_key = key
                self._engine_seen = seen
                return self._engine

    # ------------------------------------------------------------------ decisions

    def engine_ready(self) -> bool:
        """True when deciding needs no database read (the compiled engine is current), so a caller
        on an event loop may decide in place rather than in a worker thread."""
        generation, checked = self._engine_seen
        return (
            self._engine is not None
            and generation == self._pack_generation
            and time.monotonic() - checked < ENGINE_RECHECK_SECONDS
        )

    def prepare_decision(
        self,
        principal: Principal,
        document: Mapping[str, Any],
        *,
        as_of: date | None = None,
        source: str | None = None,
    ) -> PendingDecision:
        """Check the caller, validate and evaluate a transfer: the decision, ready to record
        (:meth:`submit_decision`). Nothing is written."""
        principal.require(Capability.SUBMIT)
        from accord.policy import Transfer

        transfer = Transfer.from_mapping(dict(document), source=source)
        return self.prepare_transfer(principal, transfer, as_of=as_of)

    def prepare_transfer(
        self, principal: Principal, transfer: Any, *, as_of: date | None = None
    ) -> PendingDecision:
        """:meth:`prepare_decision` for a transfer already validated (a
        :class:`~accord.policy.Transfer`, including its vocabulary checks)."""
        principal.require(Capability.SUBMIT)
        engine = self._engine_for_active_packs()
        decision = engine.decide(transfer, as_of=as_of)
        decision_dict: dict[str, Any] = decision.to_dict()
        transfer_json: dict[str, Any] = transfer.model_dump(mode="json", exclude_none=True)
        decision_id = new_id()
        # Canonicalise each part once: the digest is over {"decision", "id", "transfer"} (RFC 8785
        # orders those keys so), and the same bytes are stored in the rows.
        transfer_bytes = canonical_json(transfer_json)
        decision_bytes = canonical_json(decision_dict)
        if _NUL in transfer_bytes or _NUL in decision_bytes:
            # Databases cannot store U+0000 in text; JSON writes it as \u0000 (this can also
            # be an escaped backslash before "u0000": the walk below tells, and names the field).
            _no_nul(transfer_json, "")
        digest = _digest(decision_id, transfer_bytes, decision_bytes)
        # From the decision itself: the same values its dict holds, without walking the dict.
        outcome = str(decision.outcome)
        as_of_value: date = decision.as_of
        packs = sorted({status.id for status in decision.packs if status.applied})
        entry = {
            "schema": ENTRY_SCHEMA,
            "type": "decision",
            "body": {
                "decision": decision_id,
                "digest": digest,
                "outcome": outcome,
                "as_of": as_of_value.isoformat(),
                "packs": packs,
            },
        }
        return PendingDecision(
            principal=principal,
            transfer_json=transfer_json,
            decision_id=decision_id,
            decision=decision_dict,
            digest=digest,
            outcome=outcome,
            as_of=as_of_value,
            packs=packs,
            entry=entry,
            transfer_bytes=transfer_bytes,
            decision_bytes=decision_bytes,
            # The envelope is built just above with its three keys, so its canonical JSON is
            # exactly Entry.to_bytes() (tests compare the two), without re-validating it.
            entry_bytes=canonical_json(entry),
        )

    def decide(
        self,
        principal: Principal,
        document: Mapping[str, Any],
        *,
        as_of: date | None = None,
        source: str | None = None,
    ) -> dict[str, Any]:
        """Evaluate a transfer, record the decision in the ledger and store both, atomically."""
        pending = self.prepare_decision(principal, document, as_of=as_of, source=source)
        view = self.submit_decision(pending).result()[1]
        if "receipt" not in view and pending.receipt_json is not None:
            view["receipt"] = json.loads(pending.receipt_json)
        return view

    # Group commit: a decision is acknowledged only after the transaction holding it committed,
    # but every decision waiting at that moment shares the transaction, its fsync and one
    # checkpoint signed inside it. One writer thread per process writes the batches (the log has
    # one sequencer); callers only wait for their future.

    def submit_decision(self, pending: PendingDecision) -> Future[tuple[int, dict[str, Any]]]:
        """Queue a prepared decision for the group commit. The future gives ``(leaf index, view
        with receipt)`` once the decision is committed, or the error that stopped it."""
        with self._pending_cond:
            if self._closed:
                raise StorageError(
                    "the service is shut down", [Diagnostic("no writer", hint="retry later")]
                )
            self._pending.append(pending)
            if self._writer is None:
                self._writer = threading.Thread(
                    target=self._write_loop, name="accord-group-commit", daemon=True
                )
                self._writer.start()
            self._pending_cond.notify()
        return pending.done

    def _write_loop(self) -> None:
        while True:
            with self._pending_cond:
                while not self._pending and not self._closed:
                    self._pending_cond.wait()
                if not self._pending:
                    return
                batch = self._pending[:MAX_BATCH]
                del self._pending[:MAX_BATCH]
            # A caller that gave up (cancelled) before its turn is not written.
            batch = [item for item in batch if item.done.set_running_or_notify_cancel()]
            try:
                self._write_batch(batch, encoded=True)
            except Exception:  # pragma: no cover - _write_batch answers every waiter itself
                _log.exception("group commit failed")

    def _write_batch(self, batch: list[PendingDecision], *, encoded: bool = False) -> None:
        """Write a batch in one transaction; if it fails, retry each decision on its own so one
        bad decision cannot fail the others (each failure leaves nothing written). ``encoded``:
        render the receipts as JSON bytes (``PendingDecision.receipt_json``) when the batch was
        signed in place, instead of putting them in the views."""
        try:
            self._write_batch_once(batch, encoded=encoded)
        finally:  # never leave a waiter without an answer
            for item in batch:
                if not item.done.done():
                    item.done.set_exception(
                        StorageError("the decision was not recorded", [Diagnostic("aborted")])
                    )

    def _write_batch_once(
        self, batch: list[PendingDecision], *, retried: bool = False, encoded: bool = False
    ) -> None:
        if not batch:
            return
        try:
            appended, views = self._write_rows(batch)
        except Exception as exc:
            if len(batch) > 1:
                for item in batch:
                    self._write_batch([item], encoded=encoded)
            elif isinstance(exc, StorageError) and not retried:
                # The transaction rolled back whole; a conflict with another process's writer
                # (e.g. two workers creating the log's head row at once on PostgreSQL) is
                # transient, so try once more before giving up.
                self._write_batch_once(batch, retried=True, encoded=encoded)
            else:
                batch[0].done.set_exception(exc)
            return
        self._settle(batch, appended, views, encoded=encoded)

    def _settle(
        self,
        batch: list[PendingDecision],
        appended: AppendedBatch,
        views: list[dict[str, Any]],
        *,
        encoded: bool = False,
    ) -> None:
        """Answer the decisions of a committed batch with their views and receipts."""
        for item in batch:
            self.recorded[item.outcome] = self.recorded.get(item.outcome, 0) + 1
        try:  # committed: from here on, never write again
            rendered = self.ledger.batch_receipts_json(appended) if encoded else None
            if rendered is not None:
                for item, leaf, view, receipt_json in zip(
                    batch, appended.leaves, views, rendered, strict=True
                ):
                    item.receipt_json = receipt_json
                    item.done.set_result((leaf, view))
                return
            receipts = self.ledger.batch_receipts(appended)
        except Exception as exc:
            for item in batch:
                item.done.set_exception(exc)
            return
        for item, leaf, view, receipt in zip(batch, appended.leaves, views, receipts, strict=True):
            view["receipt"] = receipt
            item.done.set_result((leaf, view))

    def write_batch(self, pendings: Sequence[PendingDecision], *, encoded: bool = False) -> None:
        """Write prepared decisions (at most MAX_BATCH) in one transaction, in this thread, and
        answer their futures: committed, with their receipts; if the transaction fails, each is
        written (or refused) on its own, as the group-commit writer does. For a writer that
        batches decisions itself (the sequencer process). Cancelled decisions are skipped.
        ``encoded``: receipts as JSON bytes in ``PendingDecision.receipt_json`` (for answers
        rendered with :func:`accord.web.recording.finish`) rather than in the views."""
        batch = [item for item in pendings if item.done.set_running_or_notify_cancel()]
        if len(batch) > MAX_BATCH:
            raise ValueError(f"at most {MAX_BATCH} decisions per batch")
        self._write_batch(batch, encoded=encoded)

    def _write_rows(
        self, batch: list[PendingDecision]
    ) -> tuple[AppendedBatch, list[dict[str, Any]]]:
        """Insert the batch's transfers, ledger entries (with a checkpoint) and decisions in one
        transaction (Core inserts: the rows are plain values)."""
        with self.db.write_connection() as connection:
            return self._write_rows_in(connection, batch)

    def _write_rows_in(
        self, conn: Any, batch: list[PendingDecision]
    ) -> tuple[AppendedBatch, list[dict[str, Any]]]:
        """:meth:`_write_rows` through an open write transaction's connection."""
        datas = [item.entry_bytes or Entry.from_mapping(item.entry).to_bytes() for item in batch]
        now = utcnow()
        transfer_ids = [new_id() for _ in batch]
        _INSERT_TRANSFERS.run(
            conn,
            [
                (
                    tid,
                    item.transfer_json.get("id"),
                    item.principal.org_id,
                    item.principal.user_id,
                    JSONText((item.transfer_bytes or canonical_json(item.transfer_json)).decode()),
                    now,
                )
                for item, tid in zip(batch, transfer_ids, strict=True)
            ],
        )
        appended = self.ledger.append_encoded_batch_in(conn, datas)
        _INSERT_DECISIONS.run(
            conn,
            [
                (
                    item.decision_id,
                    tid,
                    item.principal.org_id,
                    item.outcome,
                    item.as_of,
                    JSONText((item.decision_bytes or canonical_json(item.decision)).decode()),
                    item.digest,
                    leaf,
                    now,
                )
                for item, tid, leaf in zip(batch, transfer_ids, appended.leaves, strict=True)
            ],
        )
        _INSERT_DECISION_PACKS.run(
            conn,
            [
                (pack, leaf)
                for item, leaf in zip(batch, appended.leaves, strict=True)
                for pack in item.packs
            ],
        )
        names = self._org_names
        unknown = {item.principal.org_id for item in batch} - {None} - set(names)
        if unknown:  # organisations are never renamed or deleted: remember their names
            names.update(conn.execute(select(Org.id, Org.name).where(Org.id.in_(unknown))).all())
        created = _iso(now)
        views = [
            {
                "id": item.decision_id,
                "transfer_id": item.transfer_json.get("id"),
                "org_id": item.principal.org_id,
                "org": None if item.principal.org_id is None else names.get(item.principal.org_id),
                "outcome": item.outcome,
                "as_of": item.as_of.isoformat(),
                "leaf_index": leaf,
                "digest": item.digest,
                "created_at": created,
                "packs": item.packs,
                "decision": item.decision,
                "transfer": item.transfer_json,
            }
            for item, leaf in zip(batch, appended.leaves, strict=True)
        ]
        return appended, views

    def _decision_scope(self, principal: Principal, query: Any) -> Any:
        if principal.can(Capability.READ_ALL):
            return query
        principal.require(Capability.READ_OWN)
        return query.where(DecisionRecord.org_id == principal.org_id)

    def list_decisions(
        self,
        principal: Principal,
        filters: DecisionFilter,
        *,
        cursor: int | None = None,
        limit: int = 50,
    ) -> tuple[list[dict[str, Any]], int | None]:
        """Decisions the caller may see, newest first; returns (items, next cursor)."""
        query: Any = (
            select(DecisionRecord, TransferRecord, Org.name)
            .join(TransferRecord, TransferRecord.id == DecisionRecord.transfer_id)
            .outerjoin(Org, Org.id == DecisionRecord.org_id)
        )
        query = self._decision_scope(principal, query)
        if filters.org_id is not None:
            if not principal.can(Capability.READ_ALL) and filters.org_id != principal.org_id:
                principal.require(Capability.READ_ALL)
            query = query.where(DecisionRecord.org_id == filters.org_id)
        if filters.outcome is not None:
            query = query.where(DecisionRecord.outcome == filters.outcome)
        if filters.date_from is not None:
            query = query.where(DecisionRecord.as_of >= filters.date_from)
        if filters.date_to is not None:
            query = query.where(DecisionRecord.as_of <= filters.date_to)
        if filters.pack is not None:
            query = query.join(
                DecisionPack,
                (DecisionPack.leaf_index == DecisionRecord.leaf_index)
                & (DecisionPack.pack_id == filters.pack),
            )
        if cursor is not None:
            query = query.where(DecisionRecord.leaf_index < cursor)
        query = query.order_by(DecisionRecord.leaf_index.desc()).limit(limit + 1)
        with self.db.read() as session:
            rows = session.execute(query).all()
        items = [_decision_view(d, t, org_name=o, full=False) for d, t, o in rows[:limit]]
        next_cursor = rows[limit - 1][0].leaf_index if len(rows) > limit else None
        return items, next_cursor

    def get_decision(self, principal: Principal, decision_id: str) -> dict[str, Any]:
        """One decision with its transfer and a fresh receipt (404 outside the caller's tenancy)."""
        query: Any = (
            select(DecisionRecord, TransferRecord, Org.name)
            .join(TransferRecord, TransferRecord.id == DecisionRecord.transfer_id)
            .outerjoin(Org, Org.id == DecisionRecord.org_id)
            .where(DecisionRecord.id == decision_id)
        )
        query = self._decision_scope(principal, query)
        with self.db.read() as session:
            row = session.execute(query).first()
        if row is None:
            raise NotFoundError(
                f"no decision {decision_id}",
                [Diagnostic("not found", path="decision_id", found=decision_id)],
            )
        view = _decision_view(row[0], row[1], org_name=row[2], full=True)
        view["receipt"] = self.ledger.receipt(row[0].leaf_index)
        return view

    def count_rows(self) -> dict[str, int]:
        """Row counts of the service tables (for tests and health checks)."""
        with self.db.read() as session:
            return {
                "transfers": session.scalar(select(func.count()).select_from(TransferRecord)) or 0,
                "decisions": session.scalar(select(func.count()).select_from(DecisionRecord)) or 0,
                "pack_versions": session.scalar(select(func.count()).select_from(PackVersion)) or 0,
                "ledger": self.ledger.size(),
            }

    def stats(self) -> dict[str, Any]:
        """Aggregate figures for the public: nothing about any single transfer."""
        with self.db.read() as session:
            by_outcome = dict(
                session.execute(
                    select(DecisionRecord.outcome, func.count()).group_by(DecisionRecord.outcome)
                ).all()
            )
            by_pack = dict(
                session.execute(
                    select(DecisionPack.pack_id, func.count()).group_by(DecisionPack.pack_id)
                ).all()
            )
            orgs = session.scalar(select(func.count()).select_from(Org)) or 0
            packs = dict(
                session.execute(select(Pack.status, func.count()).group_by(Pack.status)).all()
            )
        return {
            "decisions": sum(by_outcome.values()),
            "by_outcome": {str(k): int(v) for k, v in sorted(by_outcome.items())},
            "by_pack": {str(k): int(v) for k, v in sorted(by_pack.items())},
            "organisations": int(orgs),
            "packs": {str(k): int(v) for k, v in sorted(packs.items())},
            "log_size": self.ledger.size(),
            "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }


# ---------------------------------------------------------------------- helpers


def _digest(decision_id: str, transfer: bytes, decision: bytes) -> str:
    """SHA-256 of the RFC 8785 JSON of ``{"id", "transfer", "decision"}``, built from the parts'
    canonical bytes (RFC 8785 sorts the keys: decision, id, transfer)."""
    data = b"".join(
        (
            b'{"decision":',
            decision,
            b',"id":',
            canonical_json(decision_id),
            b',"transfer":',
            transfer,
            b"}",
        )
    )
    return hashlib.sha256(data).hexdigest()


def _require_write_scope(principal: Principal) -> None:
    """A token without the ``write`` scope changes nothing, not even tokens."""
    if principal.via == "token" and "write" not in principal.scopes:
        raise PermissionDeniedError(
            "this token may only read",
            [
                Diagnostic(
                    "read-only token",
                    path="header:Authorization",
                    expected="scope write",
                    found=", ".join(sorted(principal.scopes)) or "no scopes",
                )
            ],
        )


_NUL = b"\\u0000"


def _no_nul(value: Any, path: str) -> None:
    """Refuse NUL characters anywhere in text input (databases cannot store them in text)."""
    if isinstance(value, str):
        if "\x00" in value:
            raise InputError(
                "text contains a NUL character",
                [
                    Diagnostic(
                        "NUL character",
                        path=path,
                        expected="text without U+0000",
                        found=f"U+0000 at character {value.index(chr(0))}",
                    )
                ],
            )
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _no_nul(key, path)
            _no_nul(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _no_nul(item, f"{path}[{i}]")


def _shipped_pack_texts() -> list[tuple[str, str]]:
    """(source name, text) of every shipped pack, in a stable order."""
    from pathlib import Path

    from accord import packs as shipped_packs

    paths_fn = getattr(shipped_packs, "shipped_paths", None)
    if callable(paths_fn):
        paths = [Path(p) for p in paths_fn()]
    else:  # the loader's contract: YAML files under the package directory
        root = Path(next(iter(shipped_packs.__path__)))
        paths = sorted(root.rglob("*.yaml"))
    return [(f"packs/{p.name}", p.read_text(encoding="utf-8")) for p in sorted(paths)]


@functools.lru_cache(maxsize=128)
def _parse_pack(text: str, *, source: str) -> Any:
    """Parse and validate a pack text (raises :class:`~accord.errors.PackError`); packs are
    immutable values, so a parsed text is cached."""
    from accord import policy

    return policy.Pack.from_text(text, source=source)


def _get_pack(session: Session, pack_id: str) -> Pack:
    pack = session.get(Pack, pack_id)
    if pack is None:
        raise NotFoundError(
            f"no pack {pack_id!r}", [Diagnostic("not found", path="pack_id", found=pack_id)]
        )
    return pack


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds")


def _org_view(org: Org) -> dict[str, Any]:
    return {
        "id": org.id,
        "name": org.name,
        "country": org.country,
        "created_at": _iso(org.created_at),
    }


def _user_view(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "role": user.role,
        "org_id": user.org_id,
        "active": user.active,
        "has_password": user.password_hash is not None,
        "created_at": _iso(user.created_at),
    }


def _token_view(token: ApiToken, email: str) -> dict[str, Any]:
    return {
        "id": token.id,
        "user": email,
        "name": token.name,
        "prefix": token.prefix,
        "scopes": list(token.scopes),
        "created_at": _iso(token.created_at),
        "last_used_at": _iso(token.last_used_at),
        "revoked_at": _iso(token.revoked_at),
    }


def _pack_view(pack: Pack, *, latest: int) -> dict[str, Any]:
    return {
        "id": pack.id,
        "kind": pack.kind,
        "title": pack.title,
        "jurisdiction": pack.jurisdiction,
        "status": pack.status,
        "current_version": pack.current_version,
        "latest_version": latest,
        "updated_at": _iso(pack.updated_at),
    }


def _version_view(version: PackVersion) -> dict[str, Any]:
    return {
        "number": version.number,
        "declared_version": version.declared_version,
        "sha256": version.sha256,
        "uploaded_at": _iso(version.uploaded_at),
    }


def _event_view(event: PackEvent, email: str | None) -> dict[str, Any]:
    return {
        "action": event.action,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "version": event.version,
        "actor": email,
        "note": event.note,
        "at": _iso(event.at),
    }


def _decision_view(
    record: DecisionRecord, transfer: TransferRecord, *, org_name: str | None, full: bool
) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": record.id,
        "transfer_id": transfer.external_id,
        "org_id": record.org_id,
        "org": org_name,
        "outcome": record.outcome,
        "as_of": record.as_of.isoformat(),
        "leaf_index": record.leaf_index,
        "digest": record.digest,
        "created_at": _iso(record.created_at),
        "packs": _packs_applied(record.decision),
    }
    if full:
        view["decision"] = record.decision
        view["transfer"] = transfer.document
    return view
