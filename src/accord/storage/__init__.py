"""Persistence of the service: SQLAlchemy models, repositories and Alembic migrations."""

from accord.storage.db import Database
from accord.storage.migrate import upgrade
from accord.storage.models import PackStatus, Role

__all__ = ["Database", "PackStatus", "Role", "upgrade"]
