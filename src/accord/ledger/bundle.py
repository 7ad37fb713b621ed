"""Proof bundles: one entry, its inclusion proof and a signed checkpoint, verifiable offline.

A bundle is a JSON object::

    {
      "format": "accord.bundle/1",
      "entry": "<base64 of the canonical entry bytes>",
      "leaf_index": 5, "log_size": 8,
      "leaf_hash": "<base64>", "hashes": ["<base64>", ...],
      "checkpoint": "<the signed checkpoint note>"
    }

:func:`verify_bundle` needs nothing but the bundle and the log's verifier key: it checks the note's
signature, hashes the entry, and recomputes the checkpoint's root from the inclusion proof.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from accord.errors import Diagnostic, InputError, IntegrityError
from accord.ledger import merkle
from accord.ledger.checkpoint import Checkpoint, Verifier
from accord.ledger.entries import Entry
from accord.ledger.store import InclusionProof

FORMAT = "accord.bundle/1"


@dataclass(frozen=True, slots=True)
class VerifiedBundle:
    """What a bundle proves once verified."""

    entry: Entry
    leaf_index: int
    checkpoint: Checkpoint


def make_bundle(
    entry: bytes, proof: InclusionProof, note: str, encode: Callable[[bytes], str] | None = None
) -> dict[str, Any]:
    """The bundle of one entry, its inclusion proof and the signed checkpoint of that tree size
    (``encode``: as for :meth:`InclusionProof.to_dict`)."""
    data = proof.to_dict(encode)
    return {
        "format": FORMAT,
        "entry": base64.b64encode(entry).decode(),
        **data,
        "checkpoint": note,
    }


def _field(data: Mapping[str, Any], name: str, kind: type) -> Any:
    value = data.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise InputError(
            "malformed bundle",
            [
                Diagnostic(
                    f"bad field {name!r}", path=name, expected=kind.__name__, found=repr(value)[:60]
                )
            ],
        )
    return value


def _b64(value: object, name: str) -> bytes:
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InputError(
            "malformed bundle", [Diagnostic("not base64", path=name, found=str(value)[:60])]
        ) from exc


def parse_bundle(text: str) -> dict[str, Any]:
    """Parse a bundle file's JSON (shape checks only)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            "the bundle is not JSON", [Diagnostic(exc.msg, line=exc.lineno, column=exc.colno)]
        ) from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError(
            "not an Accord proof bundle",
            [Diagnostic("unknown format", path="format", expected=FORMAT, found=repr(data)[:60])],
        )
    return data


def verify_bundle(
    data: Mapping[str, Any], verifier: Verifier, *, origin: str | None = None
) -> VerifiedBundle:
    """Check a bundle against the log's verifier key; raise :class:`IntegrityError` if it fails."""
    entry_bytes = _b64(_field(data, "entry", str), "entry")
    index = _field(data, "leaf_index", int)
    size = _field(data, "log_size", int)
    leaf = _b64(_field(data, "leaf_hash", str), "leaf_hash")
    hashes = [_b64(h, f"hashes#{i}") for i, h in enumerate(_field(data, "hashes", list))]
    note = _field(data, "checkpoint", str)

    checkpoint = Checkpoint.from_note(note, [verifier], origin=origin)
    if checkpoint.size != size:
        raise IntegrityError(
            "the proof is for another tree size than the checkpoint",
            [
                Diagnostic(
                    "size mismatch", path="log_size", expected=str(checkpoint.size), found=str(size)
                )
            ],
        )
    if merkle.leaf_hash(entry_bytes) != leaf:
        raise IntegrityError(
            "the entry does not match its leaf hash",
            [Diagnostic("SHA-256(0x00 ‖ entry) differs from leaf_hash", path="entry")],
        )
    try:
        root = merkle.root_from_inclusion_proof(
            leaf_hash=leaf, index=index, size=size, proof=hashes
        )
    except merkle.ProofError as exc:
        raise IntegrityError(
            "the inclusion proof is malformed", [Diagnostic(str(exc), path="hashes")]
        ) from exc
    if root != checkpoint.root:
        raise IntegrityError(
            "the inclusion proof does not lead to the signed root",
            [
                Diagnostic(
                    "root mismatch",
                    path="hashes",
                    expected=base64.b64encode(checkpoint.root).decode(),
                    found=base64.b64encode(root).decode(),
                )
            ],
        )
    try:
        entry = Entry.from_bytes(entry_bytes)
    except InputError as exc:
        raise IntegrityError("the entry is not a valid Accord entry", exc.diagnostics) from exc
    return VerifiedBundle(entry, index, checkpoint)
