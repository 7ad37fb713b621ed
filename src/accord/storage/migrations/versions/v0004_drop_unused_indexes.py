"""Drop three indexes that no query uses, which every recorded decision wrote: on ``decisions``,
``created_at`` (listings page by the log's leaf index, which orders decisions by time already) and
``transfer_id`` (the transfer is always reached from the decision, through the transfers' primary
key; transfers are never deleted, so no foreign-key check needs it); on ``transfers``, ``org_id``
(transfers are reached through their decisions, which carry the organisation; organisations are
never deleted).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_decisions_created_at", table_name="decisions")
    op.drop_index("ix_decisions_transfer_id", table_name="decisions")
    op.drop_index("ix_transfers_org_id", table_name="transfers")


def downgrade() -> None:
    op.create_index("ix_transfers_org_id", "transfers", ["org_id"])
    op.create_index("ix_decisions_transfer_id", "decisions", ["transfer_id"])
    op.create_index("ix_decisions_created_at", "decisions", ["created_at"])
