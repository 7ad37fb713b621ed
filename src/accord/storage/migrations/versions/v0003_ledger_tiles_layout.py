"""The log's tile layout (bundles and hash rows) and its ``ledger_lookup`` accelerator tables.

A database migrated before the log moved to bundles and hash rows is converted in this
transaction by :func:`accord.ledger.store.create_tables`, which checks the recomputed root against
the stored tree head before dropping the old tables; new tables are created where missing.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

from accord.ledger.store import create_tables, lookup_state_table, lookup_table

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_tables(op.get_bind())


def downgrade() -> None:
    lookup_state_table.drop(op.get_bind(), checkfirst=True)
    lookup_table.drop(op.get_bind(), checkfirst=True)
