"""The service's view of the transparency log (:mod:`accord.ledger.store`).

Appends go through the service's write transaction (:meth:`LedgerBridge.append_in`), so a decision
row and its log entry commit together or not at all. Reads (proofs, tiles, checkpoints) use the read
engine. After each committed write the service signs a checkpoint covering the new entries
(:meth:`LedgerBridge.sign`), so every receipt can carry a signed checkpoint that includes its leaf.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection

from accord.errors import Diagnostic, NotFoundError, StorageError
from accord.ledger.bundle import make_bundle
from accord.ledger.checkpoint import Signer
from accord.ledger.entries import Entry
from accord.ledger.store import Ledger, SignedCheckpoint
from accord.storage.db import Database


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def load_or_create_signer(path: str | Path, *, origin: str) -> Signer:
    """The log's signing key from ``path``; a new one (file mode 0600) when the file is absent."""
    key_path = Path(path)
    if key_path.exists():
        return Signer.from_text(key_path.read_text(encoding="utf-8"))
    signer = Signer.generate(origin)
    try:
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise StorageError(
            "cannot create the log signing key",
            [Diagnostic(str(exc), path="ACCORD_LOG_KEY", found=str(key_path))],
        ) from exc
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(signer.to_text() + "\n")
    return signer


class LedgerBridge:
    """Appends in the caller's transaction, signs checkpoints, answers proofs and tiles."""

    def __init__(self, db: Database, *, key_path: str | Path, origin: str) -> None:
        self.origin = origin
        self._db = db
        self._key_path = key_path
        self._signer: Signer | None = None
        self.writer = Ledger(db.write_engine, origin=origin, create=False)
        self.reader = Ledger(db.read_engine, origin=origin, create=False)

    @property
    def signer(self) -> Signer:
        """The signing key (loaded, or created, on first use)."""
        if self._signer is None:
            self._signer = load_or_create_signer(self._key_path, origin=self.origin)
        return self._signer

    def verifier_key(self) -> str:
        """The verifier key string ``name+keyid+base64key``."""
        return self.signer.verifier().to_text()

    def append_in(self, connection: Connection, entry: dict[str, Any]) -> int:
        """Append one entry through the caller's open transaction; its leaf index."""
        return self.writer.append_in(connection, [Entry.from_mapping(entry)])[0]

    def append_many_in(self, connection: Connection, entries: list[dict[str, Any]]) -> list[int]:
        """Append entries (one batch) through the caller's open transaction; their leaf indices."""
        return self.writer.append_in(connection, [Entry.from_mapping(e) for e in entries])

    def sign(self) -> SignedCheckpoint:
        """Sign (and store) a checkpoint of the committed tree, unless the latest covers it.

        Takes the service's write lock (re-entrant), like every other write: the log has one
        sequencer, and a signer waiting on the database while holding the log's lock could
        otherwise block the writer that holds the database."""
        with self._db.write_lock:
            latest = self.writer.latest_checkpoint()
            size = self.writer.size
            if latest is not None and latest.checkpoint.size == size:
                return latest
            return self.writer.sign_checkpoint(self.signer)

    def size(self) -> int:
        """Committed number of entries."""
        return self.reader.size

    def latest(self) -> SignedCheckpoint:
        """The latest signed checkpoint (signs one if none is stored yet)."""
        latest = self.reader.latest_checkpoint()
        if latest is None:
            return self.sign()
        return latest

    def checkpoint(self) -> dict[str, Any]:
        """The latest signed checkpoint as JSON-ready data."""
        signed = self.latest()
        return {
            "origin": signed.checkpoint.origin,
            "size": signed.checkpoint.size,
            "root_hash": _b64(signed.checkpoint.root),
            "text": signed.note,
            "verifier_key": self.verifier_key(),
        }

    def receipt(
        self,
        leaf_index: int,
        *,
        checkpoint: SignedCheckpoint | None = None,
        entry: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Entry, leaf hash, inclusion proof and a signed checkpoint that includes the leaf.

        A writer that just signed ``checkpoint`` and holds the ``entry`` passes them, so only the
        proof is read; otherwise both come from the database."""
        signed = checkpoint
        if signed is None or signed.checkpoint.size <= leaf_index:
            signed = self.latest()
            if signed.checkpoint.size <= leaf_index:
                signed = self.sign()
        size = signed.checkpoint.size
        proof = self.reader.inclusion_proof(leaf_index, size)
        if entry is not None:
            encoded = Entry.from_mapping(entry)
        else:
            encoded = Entry.from_bytes(self.reader.entry(leaf_index))
        # The receipt IS a proof bundle (``accord.bundle/1``): `accord log verify-bundle` takes
        # it as it is; ``entry_json`` repeats the entry as an object for readers.
        return {
            **make_bundle(encoded.to_bytes(), proof, signed.note),
            "entry_json": encoded.to_dict(),
        }

    def inclusion(self, index: int, size: int | None) -> dict[str, Any]:
        """An inclusion proof (transparency-dev shape, base64 hashes)."""
        return self.reader.inclusion_proof(index, size).to_dict()

    def consistency(self, old_size: int, new_size: int | None) -> dict[str, Any]:
        """A consistency proof between two sizes."""
        proof = self.reader.consistency_proof(old_size, new_size)
        return {
            "old_size": proof.old_size,
            "new_size": proof.new_size,
            "hashes": [_b64(h) for h in proof.hashes],
        }

    def tile(self, level: int, index: int, width: int) -> bytes:
        """A tlog-tiles hash tile."""
        return self.reader.read_tile(level, index, width)

    def entry_bundle(self, index: int, width: int) -> bytes:
        """A tlog-tiles entry bundle."""
        return self.reader.read_entry_bundle(index, width)

    def checkpoint_note(self) -> str:
        """The latest signed checkpoint note (the tlog-tiles ``checkpoint`` file)."""
        return self.latest().note

    def entry(self, index: int) -> dict[str, Any]:
        """One entry as data."""
        try:
            data = self.reader.entry(index)
        except NotFoundError:
            raise
        return Entry.from_bytes(data).to_dict()
