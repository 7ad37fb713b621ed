"""Key ``decision_packs`` by ``(pack_id, leaf_index)`` in one B-tree.

Before, the table was keyed ``(decision_id, pack_id)`` with a second index on ``pack_id``: three
B-trees on SQLite (the rowid table, the key's index, the pack index), each written for every
recorded decision, with the decision ids landing wherever the key sorts them. Now it is one
``WITHOUT ROWID`` B-tree on SQLite (the primary key's index on PostgreSQL) whose rows append at the
end of each pack's range, and the ``pack`` filter of the decision listing reads a pack's decisions
in log order from the key. The rows are copied across (each decision's leaf index from
``decisions``).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _rename_constraints(old_prefix: str) -> None:
    """On PostgreSQL, give the renamed table's constraints the names the table would have had."""
    if op.get_bind().dialect.name != "postgresql":
        return
    rows = op.get_bind().execute(
        sa.text(
            "SELECT conname FROM pg_constraint"
            " WHERE conrelid = 'decision_packs'::regclass AND conname LIKE :prefix"
        ),
        {"prefix": f"{old_prefix}%"},
    )
    for (name,) in rows.all():
        new = "decision_packs" + name[len(old_prefix) :]
        op.execute(f'ALTER TABLE decision_packs RENAME CONSTRAINT "{name}" TO "{new}"')


def upgrade() -> None:
    op.create_table(
        "decision_packs_new",
        sa.Column("pack_id", sa.String(100), primary_key=True),
        sa.Column(
            "leaf_index", sa.BigInteger, sa.ForeignKey("decisions.leaf_index"), primary_key=True
        ),
        sqlite_with_rowid=False,
    )
    op.execute(
        "INSERT INTO decision_packs_new (pack_id, leaf_index)"
        " SELECT p.pack_id, d.leaf_index FROM decision_packs p"
        " JOIN decisions d ON d.id = p.decision_id"
    )
    op.drop_index("ix_decision_packs_pack_id", table_name="decision_packs")
    op.drop_table("decision_packs")
    op.rename_table("decision_packs_new", "decision_packs")
    _rename_constraints("decision_packs_new")


def downgrade() -> None:
    op.create_table(
        "decision_packs_old",
        sa.Column("decision_id", sa.String(32), sa.ForeignKey("decisions.id"), primary_key=True),
        sa.Column("pack_id", sa.String(100), primary_key=True),
    )
    op.execute(
        "INSERT INTO decision_packs_old (decision_id, pack_id)"
        " SELECT d.id, p.pack_id FROM decision_packs p"
        " JOIN decisions d ON d.leaf_index = p.leaf_index"
    )
    op.drop_table("decision_packs")
    op.rename_table("decision_packs_old", "decision_packs")
    _rename_constraints("decision_packs_old")
    op.create_index("ix_decision_packs_pack_id", "decision_packs", ["pack_id"])
