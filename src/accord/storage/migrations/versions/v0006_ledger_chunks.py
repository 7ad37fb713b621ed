"""Store the log's entries in chunks of 64 (``ledger_bundles``), not in whole bundles of 256.

An append rewrote the partial last bundle whole, up to 255 entries, in every transaction; it now
rewrites at most the partial last chunk (63 entries). Bundles already stored are split in place
(:func:`accord.ledger.store.chunk_bundles`); the entries and every hash stay as they are. The
downgrade joins the chunks back into bundles.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

from accord.ledger.store import chunk_bundles, join_chunks

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    chunk_bundles(op.get_bind())


def downgrade() -> None:
    join_chunks(op.get_bind())
