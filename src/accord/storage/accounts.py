"""Organisations, users, passwords (argon2) and API tokens (only their SHA-256 is stored)."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.errors import ConflictError, Diagnostic, InputError, NotFoundError
from accord.storage.models import ApiToken, Org, Role, User, utcnow

TOKEN_PREFIX = "acc_"  # noqa: S105 - not a secret
#: Scopes a token may carry. ``read`` reads; ``write`` also submits and changes things.
SCOPES = ("read", "write")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not a password")


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    if len(password) < 8:
        raise InputError(
            "password too short",
            [
                Diagnostic(
                    "password too short",
                    path="password",
                    expected="at least 8 characters",
                    found=f"{len(password)} characters",
                )
            ],
        )
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; spends the same time when there is no hash."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def token_digest(raw: str) -> str:
    """SHA-256 hex digest of a raw token: what the database keeps."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def parse_role(value: str, *, path: str = "role") -> Role:
    """A :class:`Role` from text, or an :class:`InputError` naming the field."""
    try:
        return Role(value)
    except ValueError as exc:
        raise InputError(
            f"unknown role {value!r}",
            [
                Diagnostic(
                    "unknown role",
                    path=path,
                    expected=" | ".join(r.value for r in Role),
                    found=value,
                )
            ],
        ) from exc


def create_org(session: Session, *, name: str, country: str) -> Org:
    """Add an organisation (``country`` ISO 3166-1 alpha-2)."""
    name = name.strip()
    if not name:
        raise InputError("empty name", [Diagnostic("empty", path="name", expected="a name")])
    country = country.strip().upper()
    if not _COUNTRY.match(country):
        raise InputError(
            "bad country code",
            [
                Diagnostic(
                    "not a country code",
                    path="country",
                    expected="ISO 3166-1 alpha-2, e.g. DE",
                    found=country,
                )
            ],
        )
    if session.scalar(select(Org).where(Org.name == name)) is not None:
        raise ConflictError(
            f"organisation {name!r} exists", [Diagnostic("already exists", path="name", found=name)]
        )
    org = Org(name=name, country=country)
    session.add(org)
    session.flush()
    return org


def get_org(session: Session, org: int | str) -> Org:
    """An organisation by id or name."""
    found = (
        session.get(Org, org)
        if isinstance(org, int)
        else session.scalar(select(Org).where(Org.name == org))
    )
    if found is None:
        raise NotFoundError(
            f"no organisation {org!r}", [Diagnostic("not found", path="org", found=str(org))]
        )
    return found


def create_user(
    session: Session,
    *,
    email: str,
    role: Role,
    org_id: int | None,
    password: str | None = None,
) -> User:
    """Add a user. Members must belong to an organisation."""
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise InputError(
            "not an email address",
            [Diagnostic("not an email address", path="email", expected="name@domain", found=email)],
        )
    if role is Role.MEMBER and org_id is None:
        raise InputError(
            "a member needs an organisation",
            [
                Diagnostic(
                    "missing organisation",
                    path="org",
                    expected="an organisation",
                    hint="create one with `accord orgs create`",
                )
            ],
        )
    if org_id is not None:
        get_org(session, org_id)
    if session.scalar(select(User).where(User.email == email)) is not None:
        raise ConflictError(
            f"user {email} exists", [Diagnostic("already exists", path="email", found=email)]
        )
    user = User(
        email=email,
        role=role.value,
        org_id=org_id,
        password_hash=hash_password(password) if password is not None else None,
    )
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, user: int | str) -> User:
    """A user by id or email."""
    found = (
        session.get(User, user)
        if isinstance(user, int)
        else session.scalar(select(User).where(User.email == user.strip().lower()))
    )
    if found is None:
        raise NotFoundError(
            f"no user {user!r}", [Diagnostic("not found", path="user", found=str(user))]
        )
    return found


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A newly created token: ``secret`` is shown once and never stored."""

    token: ApiToken
    secret: str


def issue_token(
    session: Session,
    *,
    user_id: int,
    name: str,
    scopes: tuple[str, ...] = SCOPES,
    secret: str | None = None,
) -> IssuedToken:
    """Create an API token for a user. ``secret`` is for bootstrapping a known admin token only."""
    bad = [s for s in scopes if s not in SCOPES]
    if bad or not scopes:
        raise InputError(
            "unknown token scope",
            [
                Diagnostic(
                    "unknown scope",
                    path="scopes",
                    expected=" | ".join(SCOPES),
                    found=", ".join(bad) or "(none)",
                )
            ],
        )
    raw = secret if secret is not None else TOKEN_PREFIX + secrets.token_urlsafe(32)
    if len(raw) < 24:
        raise InputError(
            "token too short",
            [Diagnostic("token too short", path="token", expected="at least 24 characters")],
        )
    token = ApiToken(
        user_id=user_id,
        name=name,
        prefix=raw[:12],
        token_hash=token_digest(raw),
        scopes=sorted(set(scopes)),
    )
    session.add(token)
    session.flush()
    return IssuedToken(token, raw)


def find_token(session: Session, raw: str) -> ApiToken | None:
    """The live (not revoked) token with this secret, or ``None``."""
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(raw)))
    if token is None or token.revoked_at is not None:
        return None
    return token


def revoke_token(session: Session, token_id: int, *, at: datetime | None = None) -> ApiToken:
    """Revoke a token (idempotent)."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFoundError(
            f"no token {token_id}", [Diagnostic("not found", path="token_id", found=str(token_id))]
        )
    if token.revoked_at is None:
        token.revoked_at = at or utcnow()
    return token
