"""SQLAlchemy 2 models of the service's own tables (the ledger's ``ledger_*`` tables live in
:mod:`accord.ledger.store`).

Timestamps are stored as timezone-aware UTC. Identifiers exposed over the API are random strings
(``uuid4().hex``) so that their order and count reveal nothing.
"""

from __future__ import annotations

import enum
import os
import time
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    """Now, in UTC, timezone-aware."""
    return datetime.now(UTC)


def new_id() -> str:
    """A new identifier: a UUIDv7 (RFC 9562) as 32 hex digits.

    Time-ordered, so that the rows written together sit together at the end of every index on an
    id instead of each landing on a random page of it (a batch of decisions then rewrites a few
    index pages, not one per row). All 74 bits after the millisecond timestamp come from the
    operating system's CSPRNG, with no counter (the RFC's fully random method): a decision id
    salts the digest published in the log, so knowing one id must not help to guess another.
    """
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10))  # 80 bits, 74 used
    value = (
        (ms & _MS_MASK) << 80
        | 0x7 << 76  # version 7
        | (rand >> 62 & 0xFFF) << 64  # rand_a
        | 0b10 << 62  # variant
        | rand & _RAND_B_MASK  # rand_b
    )
    return f"{value:032x}"


_MS_MASK = (1 << 48) - 1
_RAND_B_MASK = (1 << 62) - 1


class Role(enum.StrEnum):
    """What a user may do. See ``docs/roles.md``."""

    ADMIN = "admin"
    REGULATOR = "regulator"
    AUDITOR = "auditor"
    MEMBER = "member"


class PackStatus(enum.StrEnum):
    """Lifecycle of a pack or agreement: draft → active → suspended → expired."""

    DRAFT = "draft"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    EXPIRED = "expired"


class Base(DeclarativeBase):
    """Declarative base of the service tables."""

    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads it as a class attribute
        datetime: DateTime(timezone=True),
        dict[str, Any]: JSON,
        list[str]: JSON,
    }


class Org(Base):
    """An organisation: the tenant of members, transfers and decisions."""

    __tablename__ = "orgs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    country: Mapped[str] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(Base):
    """A person who signs in (password, argon2) or acts through API tokens."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    org_id: Mapped[int | None] = mapped_column(ForeignKey("orgs.id"), index=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiToken(Base):
    """An API token: only the SHA-256 of the secret is stored; ``prefix`` identifies it."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()


class Pack(Base):
    """A rule pack or agreement (``kind``) with its lifecycle ``status``; text lives in versions."""

    __tablename__ = "packs"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    title: Mapped[str] = mapped_column(String(300))
    jurisdiction: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), index=True)
    current_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class PackVersion(Base):
    """One uploaded text of a pack. Versions are numbered 1, 2, … and never change."""

    __tablename__ = "pack_versions"
    __table_args__ = (UniqueConstraint("pack_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pack_id: Mapped[str] = mapped_column(ForeignKey("packs.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    declared_version: Mapped[str] = mapped_column(String(50))
    text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class PackEvent(Base):
    """Audit trail: who changed which pack, how and when."""

    __tablename__ = "pack_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pack_id: Mapped[str] = mapped_column(ForeignKey("packs.id"), index=True)
    action: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class TransferRecord(Base):
    """A submitted transfer document (as normalised JSON)."""

    __tablename__ = "transfers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    external_id: Mapped[str | None] = mapped_column(String(200))
    #: Not indexed: transfers are reached through their decisions (which carry the organisation),
    #: and organisations are never deleted.
    org_id: Mapped[int | None] = mapped_column(ForeignKey("orgs.id"))
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DecisionRecord(Base):
    """A decision on a transfer, with the index of its entry in the ledger."""

    __tablename__ = "decisions"
    __table_args__ = (
        Index("ix_decisions_org_leaf", "org_id", "leaf_index"),
        Index("ix_decisions_outcome_leaf", "outcome", "leaf_index"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    #: Not indexed: the transfer is reached from the decision (and transfers are never deleted).
    transfer_id: Mapped[str] = mapped_column(ForeignKey("transfers.id"))
    org_id: Mapped[int | None] = mapped_column(ForeignKey("orgs.id"))
    outcome: Mapped[str] = mapped_column(String(40))
    as_of: Mapped[date] = mapped_column(Date, index=True)
    decision: Mapped[dict[str, Any]] = mapped_column(JSON)
    digest: Mapped[str] = mapped_column(String(64))
    #: Index of the decision's entry in the ledger; monotonic, so also the listing's cursor.
    leaf_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    #: Not indexed: listings page by ``leaf_index``, which orders decisions by time already.
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DecisionPack(Base):
    """Which packs applied to a decision (for the ``pack`` filter and the statistics).

    Keyed by the pack, then the decision's leaf index, in one B-tree (``WITHOUT ROWID`` on
    SQLite): recording a decision appends at the end of each applied pack's range, and a pack's
    decisions page in log order straight from the key."""

    __tablename__ = "decision_packs"
    __table_args__ = {"sqlite_with_rowid": False}  # noqa: RUF012 - SQLAlchemy reads it

    pack_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    leaf_index: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("decisions.leaf_index"), primary_key=True
    )
