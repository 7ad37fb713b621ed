"""Invariants of the log: every proof verifies; any flipped bit makes verification fail."""

from __future__ import annotations

import base64
import tempfile
from pathlib import Path

import pytest
import rfc8785
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.errors import AccordError, IntegrityError
from accord.ledger import merkle, store
from accord.ledger.bundle import make_bundle, verify_bundle
from accord.ledger.checkpoint import Checkpoint, Signer
from accord.ledger.entries import Entry, canonical_json
from accord.ledger.store import InclusionProof, Ledger

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SIGNER = Signer.generate("accord.test/log")
VERIFIER = SIGNER.verifier()


def _flip(data: bytes, bit: int) -> bytes:
    bit %= len(data) * 8
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


@st.composite
def trees(draw: st.DrawFn) -> tuple[list[bytes], int]:
    size = draw(st.integers(1, 300))
    leaves = [i.to_bytes(4, "big") for i in range(size)]
    return leaves, size


@SETTINGS
@given(trees(), st.data())
def test_every_inclusion_proof_verifies_and_no_flip_does(
    tree: tuple[list[bytes], int], data: st.DataObject
) -> None:
    leaves, size = tree
    index = data.draw(st.integers(0, size - 1))
    root = merkle.root_hash(leaves)
    proof = merkle.inclusion_proof(leaves, index, size)
    leaf = merkle.leaf_hash(leaves[index])
    assert merkle.verify_inclusion(leaf_hash=leaf, index=index, size=size, proof=proof, root=root)
    bit = data.draw(st.integers(0, 10_000))
    if proof:
        k = data.draw(st.integers(0, len(proof) - 1))
        bad = [*proof[:k], _flip(proof[k], bit), *proof[k + 1 :]]
        assert not merkle.verify_inclusion(
            leaf_hash=leaf, index=index, size=size, proof=bad, root=root
        )
    assert not merkle.verify_inclusion(
        leaf_hash=leaf, index=index, size=size, proof=proof, root=_flip(root, bit)
    )
    assert not merkle.verify_inclusion(
        leaf_hash=merkle.leaf_hash(_flip(leaves[index], bit)),
        index=index,
        size=size,
        proof=proof,
        root=root,
    )


@SETTINGS
@given(trees(), st.data())
def test_every_consistency_proof_verifies_and_no_flip_does(
    tree: tuple[list[bytes], int], data: st.DataObject
) -> None:
    leaves, size = tree
    old = data.draw(st.integers(0, size))
    old_root, new_root = merkle.root_hash(leaves[:old]), merkle.root_hash(leaves)
    proof = merkle.consistency_proof(leaves, old, size)
    ok = merkle.verify_consistency(
        old_size=old, new_size=size, old_root=old_root, new_root=new_root, proof=proof
    )
    assert ok
    bit = data.draw(st.integers(0, 10_000))
    if proof:
        k = data.draw(st.integers(0, len(proof) - 1))
        bad = [*proof[:k], _flip(proof[k], bit), *proof[k + 1 :]]
        assert not merkle.verify_consistency(
            old_size=old, new_size=size, old_root=old_root, new_root=new_root, proof=bad
        )
    if old > 0:
        assert not merkle.verify_consistency(
            old_size=old,
            new_size=size,
            old_root=_flip(old_root, bit),
            new_root=new_root,
            proof=proof,
        )
    if old > 0:
        assert not merkle.verify_consistency(
            old_size=old,
            new_size=size,
            old_root=old_root,
            new_root=_flip(new_root, bit),
            proof=proof,
        )


@SETTINGS
@given(st.integers(0, 2**40), st.binary(min_size=32, max_size=32), st.data())
def test_any_flipped_bit_of_a_signed_checkpoint_fails(
    size: int, root: bytes, data: st.DataObject
) -> None:
    note = Checkpoint("accord.test/log", size, root).sign(SIGNER).encode()
    assert Checkpoint.from_note(note.decode(), [VERIFIER]).size == size
    bit = data.draw(st.integers(0, len(note) * 8 - 1))
    flipped = _flip(note, bit)
    try:
        Checkpoint.from_note(flipped.decode("utf-8"), [VERIFIER])
    except (AccordError, UnicodeDecodeError):
        return
    raise AssertionError(f"a note with bit {bit} flipped still verifies")


@SETTINGS
@given(st.integers(1, 40), st.data())
def test_any_flipped_bit_of_a_bundle_fails(size: int, data: st.DataObject) -> None:
    entries = [Entry("event", {"i": i}).to_bytes() for i in range(size)]
    index = data.draw(st.integers(0, size - 1))
    root = merkle.root_hash(entries)
    proof = InclusionProof(
        index,
        size,
        merkle.leaf_hash(entries[index]),
        tuple(merkle.inclusion_proof(entries, index, size)),
    )
    note = Checkpoint("accord.test/log", size, root).sign(SIGNER)
    bundle = make_bundle(entries[index], proof, note)
    assert verify_bundle(bundle, VERIFIER).leaf_index == index
    bit = data.draw(st.integers(0, 10_000))
    what = data.draw(st.sampled_from(["entry", "leaf_hash", "hashes"]))
    bad = dict(bundle)
    if what == "hashes":
        if not proof.hashes:
            return
        k = data.draw(st.integers(0, len(proof.hashes) - 1))
        hashes = list(proof.hashes)
        hashes[k] = _flip(hashes[k], bit)
        bad["hashes"] = [base64.b64encode(h).decode() for h in hashes]
    else:
        bad[what] = base64.b64encode(_flip(base64.b64decode(bundle[what]), bit)).decode()
    try:
        verify_bundle(bad, VERIFIER)
    except AccordError:
        return
    raise AssertionError(f"a bundle with a flipped bit in {what} still verifies")


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=12,
)


@SETTINGS
@given(JSON_VALUES)
def test_the_fast_canonical_path_agrees_with_rfc8785(value: object) -> None:
    assert canonical_json(value) == rfc8785.dumps(value)


# -- the stored log --------------------------------------------------------------------------------

STORE_SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def _event(i: int) -> Entry:
    return Entry("event", {"i": i})


@STORE_SETTINGS
@given(st.lists(st.integers(1, 300), min_size=1, max_size=6), st.data())
def test_stored_log_matches_the_pure_tree_for_any_batches(
    batches: list[int], data: st.DataObject
) -> None:
    """Any sequence of batch sizes (crossing row and bundle boundaries, through a second writer
    and both append paths) stores exactly the RFC 6962 tree of the entries, and verifies; proofs
    asked between appends, from rows remembered while they were shorter, stay right."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "log.db"
        writers = [Ledger.open(path), Ledger.open(path)]
        datas: list[bytes] = []
        for count in batches:
            writer = writers[data.draw(st.integers(0, 1))]
            new = [_event(len(datas) + k) for k in range(count)]
            if data.draw(st.booleans()):
                got = writer.append(new)
            else:
                got = writer.append_encoded([e.to_bytes() for e in new])
            assert got == list(range(len(datas), len(datas) + count))
            datas += [e.to_bytes() for e in new]
            if data.draw(st.booleans()):  # a proof between appends: its rows are remembered
                size = data.draw(st.integers(1, len(datas)))
                index = data.draw(st.integers(0, size - 1))
                assert list(writers[0].inclusion_proof(index, size).hashes) == (
                    merkle.inclusion_proof(datas, index, size)
                )
        log = writers[0]
        n = len(datas)
        assert log.head() == (n, merkle.root_hash(datas))
        size = data.draw(st.integers(1, n))
        index = data.draw(st.integers(0, size - 1))
        assert list(log.inclusion_proof(index, size).hashes) == merkle.inclusion_proof(
            datas, index, size
        )
        old = data.draw(st.integers(0, size))
        assert list(log.consistency_proof(old, size).hashes) == merkle.consistency_proof(
            datas, old, size
        )
        assert log.entry(index) == datas[index]
        assert log.find(merkle.leaf_hash(datas[index])) == index
        assert [d for _, _, d in log.entries(index, size)] == datas[index:size]
        bundle = data.draw(st.integers(0, (n - 1) // 256))
        width = min(256, n - bundle * 256)
        assert log.read_entry_bundle(bundle, width) == b"".join(
            len(d).to_bytes(2, "big") + d for d in datas[bundle * 256 : bundle * 256 + width]
        )
        assert log.read_tile(0, bundle, width) == b"".join(
            merkle.leaf_hash(d) for d in datas[bundle * 256 : bundle * 256 + width]
        )
        assert log.verify().size == n
        for writer in writers:
            writer.close()


@STORE_SETTINGS
@given(st.integers(1, 600), st.data())
def test_any_flipped_bit_in_any_stored_row_fails_verification(
    size: int, data: st.DataObject
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        log = Ledger.open(Path(tmp) / "log.db")
        log.append([_event(i) for i in range(size)])
        with log.engine.connect() as conn:
            rows = [
                (table, int(rid), bytes(blob))
                for table in ("ledger_bundles", "ledger_tiles")
                for rid, blob in conn.execute(sa.text(f"SELECT id, data FROM {table}"))
            ]
        table, rid, blob = data.draw(st.sampled_from(rows))
        bad = _flip(blob, data.draw(st.integers(0, len(blob) * 8 - 1)))
        with log.engine.begin() as conn:
            conn.execute(
                sa.text(f"UPDATE {table} SET data = :d WHERE id = :i"),
                {"d": bad, "i": rid},
            )
        with pytest.raises(IntegrityError) as info:
            log.verify()
        assert info.value.diagnostics, f"{table} row {rid}"
        log.close()


@given(st.integers(0, 2**48))
def test_the_hash_rows_kept_for_proofs_stay_within_their_bound(size: int) -> None:
    """Proofs remember hash rows from a height up that depends on the log's size: however large
    the log, the complete rows from that height up fit the bound, and one height lower would
    not have (so the upper rows every proof shares are all kept)."""
    lowest = store._lowest_kept_height(size)

    def complete_rows(first: int) -> int:
        return sum(size >> (h + 8) for h in range(first, size.bit_length()))

    assert complete_rows(lowest) <= store._FULL_ROWS_KEPT
    if lowest:
        assert complete_rows(lowest - 1) > store._FULL_ROWS_KEPT // 2
