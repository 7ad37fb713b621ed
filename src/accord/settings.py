"""Settings of the Accord service, read from the environment (``ACCORD_*``) with explicit overrides.

Every setting is documented in ``docs/service.md``; a test checks that each env var named here
appears there.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path

from accord.errors import Diagnostic, InputError

#: Env var → (field name, description). The single source for docs and ``from_env``.
ENV_VARS: dict[str, str] = {
    "ACCORD_DATABASE_URL": "database_url",
    "ACCORD_SECRET_KEY": "secret_key",
    "ACCORD_ADMIN_TOKEN": "admin_token",
    "ACCORD_ADMIN_EMAIL": "admin_email",
    "ACCORD_LOG_KEY": "log_key_path",
    "ACCORD_LOG_ORIGIN": "log_origin",
    "ACCORD_MAX_BODY_BYTES": "max_body_bytes",
    "ACCORD_SECURE_COOKIES": "secure_cookies",
    "ACCORD_SESSION_MAX_AGE": "session_max_age",
    "ACCORD_SEQUENCER_SOCKET": "sequencer_socket",
    "ACCORD_WARM_START": "warm_start",
    "ACCORD_RESERVE_SEQUENCER_CPU": "reserve_sequencer_cpu",
}

DEFAULT_DB_FILE = "accord.db"
DEFAULT_LOG_KEY = "accord-log.key"
DEFAULT_LOG_ORIGIN = "accord.example/log"


def database_url_for(db: str | Path) -> str:
    """Turn ``--db`` (a file path or an SQLAlchemy URL) into an SQLAlchemy URL."""
    text = str(db)
    if "://" in text:
        return text
    return f"sqlite:///{Path(text).expanduser().resolve()}"


def _parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise InputError(
        f"{name} is not a boolean",
        [Diagnostic("not a boolean", path=name, expected="true or false", found=raw)],
    )


def _parse_int(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError as exc:
        raise InputError(
            f"{name} is not an integer",
            [Diagnostic("not an integer", path=name, expected="a positive integer", found=raw)],
        ) from exc
    if value <= 0:
        raise InputError(
            f"{name} must be positive",
            [Diagnostic("not positive", path=name, expected="a positive integer", found=raw)],
        )
    return value


@dataclass(frozen=True, slots=True)
class Settings:
    """How the service runs. Build with :meth:`from_env`; tests pass explicit values."""

    database_url: str = field(default_factory=lambda: database_url_for(DEFAULT_DB_FILE))
    #: Key that signs session cookies. Random per process when unset (sessions end on restart).
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    #: When set, ``accord serve`` makes sure an admin exists whose API token is this value.
    admin_token: str | None = None
    admin_email: str = "admin@accord.invalid"
    log_key_path: str = DEFAULT_LOG_KEY
    log_origin: str = DEFAULT_LOG_ORIGIN
    #: Request bodies larger than this are refused with 413.
    max_body_bytes: int = 1024 * 1024
    #: Mark cookies ``Secure`` (set it when serving over HTTPS).
    secure_cookies: bool = False
    session_max_age: int = 8 * 3600
    #: Unix socket of the sequencer process that records decisions (``accord serve`` starts one
    #: and sets this for its workers). Unset: the web process records decisions itself.
    sequencer_socket: str | None = None
    #: Before serving, compile the active packs and move the startup heap out of the garbage
    #: collector's sight (``gc.freeze``), so that its full collections stop rescanning objects
    #: that live as long as the process. ``accord serve`` sets it for its workers.
    warm_start: bool = False
    #: ``accord serve``: bind the sequencer to a CPU of its own and the web workers to the others
    #: (:mod:`accord.placement`); off by default.
    reserve_sequencer_cpu: bool = False

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from ``env`` (default ``os.environ``), then ``overrides`` (``None`` = unset)."""
        source = os.environ if env is None else env
        values: dict[str, object] = {}
        for name, attr in ENV_VARS.items():
            raw = source.get(name)
            if raw is None or raw == "":
                continue
            if attr in {"max_body_bytes", "session_max_age"}:
                values[attr] = _parse_int(name, raw)
            elif attr in {"secure_cookies", "warm_start", "reserve_sequencer_cpu"}:
                values[attr] = _parse_bool(name, raw)
            elif attr == "database_url":
                values[attr] = database_url_for(raw)
            else:
                values[attr] = raw
        for key, value in overrides.items():
            if value is not None:
                values[key] = database_url_for(str(value)) if key == "database_url" else value
        return cls(**values)  # type: ignore[arg-type]

    def with_(self, **changes: object) -> Settings:
        """A copy with some fields changed."""
        return replace(self, **changes)  # type: ignore[arg-type]
