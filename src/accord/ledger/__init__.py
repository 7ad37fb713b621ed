"""The tamper-evident transparency log: RFC 6962 Merkle tree, C2SP signed checkpoints, tiles.

* :mod:`accord.ledger.merkle` — pure RFC 6962 / RFC 9162 hashing, proofs and verification.
* :mod:`accord.ledger.entries` — canonical JSON (RFC 8785) entry envelopes.
* :mod:`accord.ledger.checkpoint` — signed notes and checkpoints (Ed25519 keys, C2SP text forms).
* :mod:`accord.ledger.store` — :class:`Ledger`: the log in SQLite or PostgreSQL.
* :mod:`accord.ledger.tiles` — the C2SP tlog-tiles layout for static publishing.
* :mod:`accord.ledger.bundle` — self-contained proof bundles verifiable offline.
"""

from __future__ import annotations

from accord.ledger.checkpoint import Checkpoint, Signer, Verifier
from accord.ledger.entries import Entry, EntryType
from accord.ledger.store import Ledger, create_tables, metadata, open_engine

__all__ = [
    "Checkpoint",
    "Entry",
    "EntryType",
    "Ledger",
    "Signer",
    "Verifier",
    "create_tables",
    "metadata",
    "open_engine",
]
