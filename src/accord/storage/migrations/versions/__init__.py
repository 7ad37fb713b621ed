"""Alembic revisions (applied in order by ``accord db upgrade``)."""
