"""Run the Alembic migrations shipped inside the package, programmatically."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from accord.errors import Diagnostic, StorageError

SCRIPT_LOCATION = "accord.storage:migrations"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    return config


def head() -> str | None:
    """The newest revision the package ships."""
    return ScriptDirectory.from_config(_config()).get_current_head()


def current(engine: Engine) -> str | None:
    """The revision the database is at (``None`` when it was never migrated)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Bring the database to ``revision`` (default the newest) in one transaction; return it."""
    config = _config()
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
        return current(engine)
    except SQLAlchemyError as exc:
        raise StorageError(
            "cannot migrate the database",
            [
                Diagnostic(
                    str(exc.__class__.__name__) + ": " + str(exc).splitlines()[0],
                    path="database_url",
                    found=engine.url.render_as_string(),
                    hint="check --db / ACCORD_DATABASE_URL and that the server is running",
                )
            ],
        ) from exc
