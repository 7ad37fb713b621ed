"""The service's view of the transparency log (:mod:`accord.ledger.store`).

Appends go through the service's write transaction, so a decision row and its log entry commit
together or not at all. The group commit uses :meth:`LedgerBridge.append_batch_in`: it appends a
batch, signs a checkpoint of the new tree in the same transaction (when it can show the new
checkpoint extends the last one) and computes every receipt's inclusion proof from memory.
Reads (proofs, tiles, checkpoints) use the read engine; :meth:`LedgerBridge.sign` signs a
checkpoint of the committed tree through the store, with the store's consistency checks.
"""

from __future__ import annotations

import base64
import json
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from accord.errors import Diagnostic, NotFoundError, StorageError
from accord.ledger import merkle
from accord.ledger.bundle import FORMAT as BUNDLE_FORMAT
from accord.ledger.bundle import make_bundle
from accord.ledger.checkpoint import Checkpoint, Note, Signer
from accord.ledger.entries import Entry
from accord.ledger.store import InclusionProof, Ledger, SignedCheckpoint, metadata
from accord.storage.db import Database

_log = logging.getLogger("accord.storage")
_CHECKPOINTS = metadata.tables["ledger_checkpoints"]
# Built once: statement construction is a noticeable share of a small batch's Python.
_READ_LAST_NOTE = select(_CHECKPOINTS.c.note).order_by(_CHECKPOINTS.c.id.desc()).limit(1)
_BUNDLE_FORMAT = BUNDLE_FORMAT.encode()


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


@dataclass(frozen=True, slots=True)
class AppendedBatch:
    """Entries appended in one transaction, and what their receipts need.

    ``checkpoint`` was signed and stored in the same transaction (it becomes visible with the
    entries) and ``proofs`` prove each entry in that checkpoint's tree; both are ``None`` when the
    batch could not be signed in place (the tree has unsigned entries before the batch, or another
    writer's checkpoint does not end where the batch starts): then :meth:`LedgerBridge.receipt`
    signs and reads them after the commit, as for any stored entry."""

    leaves: list[int]
    entries: list[bytes]
    checkpoint: SignedCheckpoint | None
    proofs: list[InclusionProof] | None


@dataclass(frozen=True, slots=True)
class _Tail:
    """The end of the last batch signed in place and committed: its checkpoint's size and root and
    the inclusion proof of its last leaf. While the tree still has that size, the next batch's
    checkpoint extends that one and its proofs start from that proof: no reads needed."""

    size: int
    root: bytes
    edge: InclusionProof


class _Tree:
    """Merkle tree hashes of leaf ranges of a tree whose first ``start`` leaves are known only
    through some stored range hashes (``known``) and whose later leaves are in memory."""

    def __init__(self, start: int, known: dict[tuple[int, int], bytes], leaves: list[bytes]):
        self.start = start
        self.known = known
        self.leaves = leaves

    def hash(self, lo: int, hi: int) -> bytes:
        """MTH of leaves ``[lo, hi)`` (RFC 6962 split); ``KeyError`` if it needs unknown data."""
        found = self.known.get((lo, hi))
        if found is not None:
            return found
        if hi - lo == 1:
            if lo < self.start:
                raise KeyError((lo, hi))
            value = self.leaves[lo - self.start]
        else:
            k = 1 << ((hi - lo - 1).bit_length() - 1)
            value = merkle.node_hash(self.hash(lo, lo + k), self.hash(lo + k, hi))
        self.known[(lo, hi)] = value
        return value

    def proof(self, index: int, size: int) -> InclusionProof:
        """The inclusion proof of leaf ``index`` (one of the in-memory leaves) in tree ``size``."""
        hashes = tuple(self.hash(lo, hi) for lo, hi in merkle.inclusion_ranges(index, size))
        return InclusionProof(index, size, self.leaves[index - self.start], hashes)


def batch_proofs(
    start: int, leaf_hashes: list[bytes], edge: InclusionProof | None
) -> tuple[bytes, bytes, list[InclusionProof]]:
    """Inclusion proofs of leaves ``start …`` (their hashes in memory) in the tree that ends with
    them, from ``edge`` — the inclusion proof of leaf ``start - 1`` in the tree of ``start`` leaves
    (``None`` when ``start`` is 0), which holds every hash of the older part those proofs need.

    Returns (root of the tree before the batch, root after it, the proofs). Checking those roots
    against the stored tree head and the last checkpoint is the caller's part."""
    known: dict[tuple[int, int], bytes] = {}
    if start:
        if edge is None or edge.leaf_index != start - 1 or edge.log_size != start:
            raise ValueError("the edge proof is not of the last leaf before the batch")
        known[(start - 1, start)] = edge.leaf_hash
        ranges = merkle.inclusion_ranges(start - 1, start)
        if len(ranges) != len(edge.hashes):
            raise ValueError("the edge proof has the wrong length")
        known.update(zip(ranges, edge.hashes, strict=True))
    tree = _Tree(start, known, leaf_hashes)
    size = start + len(leaf_hashes)
    before = tree.hash(0, start) if start else merkle.EMPTY_ROOT
    after = tree.hash(0, size)
    return before, after, [tree.proof(i, size) for i in range(start, size)]


def _memo_b64() -> Callable[[bytes], str]:
    """base64 of a hash, each distinct one encoded once (a batch's proofs share most of their
    hashes: the older part of the tree)."""
    encoded: dict[bytes, str] = {}

    def encode(digest: bytes) -> str:
        text = encoded.get(digest)
        if text is None:
            text = encoded[digest] = _b64(digest)
        return text

    return encode


def _receipt(
    entry: bytes, proof: InclusionProof, note: str, encode: Callable[[bytes], str] | None = None
) -> dict[str, Any]:
    # The receipt IS a proof bundle (``accord.bundle/1``): `accord log verify-bundle` takes it as
    # it is; ``entry_json`` repeats the entry as an object for readers.
    return {
        **make_bundle(entry, proof, note, encode),
        # The bytes were written by this process from a valid entry (``verify`` re-checks them).
        "entry_json": json.loads(entry),
    }


class LedgerBridge:
    """Appends in the caller's transaction, signs checkpoints, answers proofs and tiles."""

    def __init__(self, db: Database, *, key_path: str | Path, origin: str) -> None:
        self.origin = origin
        self._db = db
        self._key_path = key_path
        self._signer: Signer | None = None
        self.writer = Ledger(db.write_engine, origin=origin, create=False)
        #: The last batch this bridge signed in place, once committed (see _Tail).
        self._tail: _Tail | None = None
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

    def append_batch_in(self, connection: Connection, entries: Sequence[Entry]) -> AppendedBatch:
        """Append ``entries`` through the caller's open write transaction, sign a checkpoint of
        the resulting tree in the same transaction (one commit, one fsync for both), and compute
        every entry's inclusion proof in that tree from memory and one stored proof.

        The checkpoint is signed in place only when the last stored checkpoint (if any) is of
        this log's origin and ends exactly where the batch starts with the same root the batch
        was appended to, so the new checkpoint provably extends it; otherwise nothing is signed
        here (:meth:`sign` after the commit does, with the store's own checks)."""
        return self.append_encoded_batch_in(connection, [e.to_bytes() for e in entries])

    def append_encoded_batch_in(self, connection: Connection, datas: list[bytes]) -> AppendedBatch:
        """:meth:`append_batch_in` for entries given as the canonical bytes this process just made
        (:meth:`Entry.to_bytes`)."""
        leaves = self.writer.append_encoded_in(connection, datas)
        if not leaves:
            return AppendedBatch([], [], None, None)
        start, size = leaves[0], leaves[-1] + 1
        unsigned = AppendedBatch(leaves, datas, None, None)
        head = self.writer.pending_head()  # what the append just wrote to ledger_state
        if head is None or head[0] != size or leaves != list(range(start, size)):
            return unsigned
        tail = self._tail
        if tail is not None and tail.size == start:
            # Nothing was appended since this bridge's last signed batch committed (the tree
            # still has its size): its checkpoint is the last one, or another of the same tree.
            last_root: bytes | None = tail.root
            edge: InclusionProof | None = tail.edge
        else:
            row = connection.execute(_READ_LAST_NOTE).first()
            last = None if row is None else Checkpoint.from_text(Note.from_text(str(row[0])).text)
            if last is not None and (last.origin != self.origin or last.size != start):
                return unsigned
            last_root = None if last is None else last.root
            # The tree of `start` leaves is committed (this transaction holds the write lock), so
            # a reader sees it; its last leaf's proof carries every older hash the new proofs need.
            edge = self.reader.inclusion_proof(start - 1, start) if start else None
        try:
            before, after, proofs = batch_proofs(start, [merkle.leaf_hash(d) for d in datas], edge)
        except (KeyError, ValueError) as exc:
            _log.error("batch proofs not computed: %r", exc)
            return unsigned
        if after != head[1] or (last_root is not None and last_root != before):
            _log.error("batch not signed in place: stored hashes disagree with the tree head")
            return unsigned
        body = Checkpoint(self.origin, size, after)
        note = body.sign(self.signer)
        created = datetime.now(UTC).isoformat(timespec="seconds")
        checkpoint_id = self.writer.store_checkpoint_in(connection, size, after, note, created)
        signed = SignedCheckpoint(checkpoint_id, note, body, created)
        return AppendedBatch(leaves, datas, signed, proofs)

    def batch_receipts(self, batch: AppendedBatch) -> list[dict[str, Any]]:
        """The receipt of every entry of a committed batch (no read when it was signed in place)."""
        if batch.checkpoint is None or batch.proofs is None:
            signed = None
            try:
                signed = self.sign()
            except Exception as exc:  # the entries are committed; receipts sign lazily
                _log.error("checkpoint not signed: %r", exc)
            return [
                self.receipt(leaf, checkpoint=signed, entry_bytes=data)
                for leaf, data in zip(batch.leaves, batch.entries, strict=True)
            ]
        note = batch.checkpoint.note
        self._committed(batch.checkpoint, batch.proofs)
        encode = _memo_b64()
        return [
            _receipt(data, proof, note, encode)
            for data, proof in zip(batch.entries, batch.proofs, strict=True)
        ]

    def batch_receipts_json(self, batch: AppendedBatch) -> list[bytes] | None:
        """:meth:`batch_receipts` as JSON bytes (UTF-8, compact), rendered without building the
        dicts, for a batch signed in place; ``None`` for any other batch (then use
        :meth:`batch_receipts`). ``entry_json`` is the entry's canonical bytes as they are."""
        if batch.checkpoint is None or batch.proofs is None:
            return None
        self._committed(batch.checkpoint, batch.proofs)
        encode = _memo_b64()
        note = json.dumps(batch.checkpoint.note, ensure_ascii=False).encode()
        out: list[bytes] = []
        for data, proof in zip(batch.entries, batch.proofs, strict=True):
            hashes = ",".join([f'"{encode(h)}"' for h in proof.hashes])
            middle = (
                f'","log_size":{proof.log_size},"leaf_index":{proof.leaf_index},'
                f'"leaf_hash":"{encode(proof.leaf_hash)}","hashes":[{hashes}],"checkpoint":'
            )
            out.append(
                b"".join(
                    (
                        b'{"format":"',
                        _BUNDLE_FORMAT,
                        b'","entry":"',
                        base64.b64encode(data),
                        middle.encode(),
                        note,
                        b',"entry_json":',
                        data,
                        b"}",
                    )
                )
            )
        return out

    def _committed(self, checkpoint: SignedCheckpoint, proofs: list[InclusionProof]) -> None:
        """Remember a committed batch signed in place: the next batch builds on it without
        reading it back."""
        head = checkpoint.checkpoint
        self._tail = _Tail(head.size, head.root, proofs[-1])

    def sign(self) -> SignedCheckpoint:
        """Sign (and store) a checkpoint of the committed tree, unless the latest covers it.

        Takes the service's write lock (re-entrant), like every other write: the log has one
        sequencer, and a signer waiting on the database while holding the log's lock could
        otherwise block the writer that holds the database."""
        with self._db.exclusive():
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
        entry_bytes: bytes | None = None,
    ) -> dict[str, Any]:
        """Entry, leaf hash, inclusion proof and a signed checkpoint that includes the leaf.

        A writer that just signed ``checkpoint`` and holds the entry (``entry`` or its canonical
        ``entry_bytes``) passes them, so only the proof is read; otherwise both come from the
        database."""
        signed = checkpoint
        if signed is None or signed.checkpoint.size <= leaf_index:
            signed = self.latest()
            if signed.checkpoint.size <= leaf_index:
                signed = self.sign()
        size = signed.checkpoint.size
        proof = self.reader.inclusion_proof(leaf_index, size)
        if entry_bytes is not None:
            data = entry_bytes
        elif entry is not None:
            data = Entry.from_mapping(entry).to_bytes()
        else:
            data = self.reader.entry(leaf_index)
        return _receipt(data, proof, signed.note)

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
