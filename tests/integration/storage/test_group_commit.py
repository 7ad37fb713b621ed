"""Group commit: receipts built from the batch in memory, the checkpoint signed in the batch's own
transaction, and two writers (two processes' services) sharing one database."""

from __future__ import annotations

import threading
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.ledger import merkle
from accord.ledger.bundle import verify_bundle
from accord.ledger.store import InclusionProof
from accord.service import OPERATOR
from accord.storage.ledger_bridge import batch_proofs
from conftest import TRANSFER, make_account


@settings(max_examples=100, deadline=None)
@given(start=st.integers(min_value=0, max_value=300), count=st.integers(min_value=1, max_value=40))
def test_batch_proofs_equal_proofs_over_the_whole_tree(start: int, count: int) -> None:
    leaves = [f"leaf {i}".encode() for i in range(start + count)]
    hashes = [merkle.leaf_hash(d) for d in leaves]
    size = start + count
    edge = None
    if start:
        edge = InclusionProof(
            start - 1,
            start,
            hashes[start - 1],
            tuple(merkle.inclusion_proof(leaves, start - 1, start)),
        )
    before, after, proofs = batch_proofs(start, hashes[start:], edge)
    assert before == merkle.root_hash(leaves[:start])
    assert after == merkle.root_hash(leaves)
    for i, proof in zip(range(start, size), proofs, strict=True):
        assert (proof.leaf_index, proof.log_size, proof.leaf_hash) == (i, size, hashes[i])
        assert list(proof.hashes) == merkle.inclusion_proof(leaves, i, size)


def test_a_batch_shares_one_checkpoint_and_every_receipt_verifies(service: Any) -> None:
    from accord.ledger.checkpoint import Verifier

    service.ensure_shipped_packs()
    org = service.create_org(OPERATOR, name="Org", country="DE")
    principal = service.authenticate_token(
        make_account(service, email="m@x.org", role="member", org_id=org["id"]).token
    )
    service.decide(principal, TRANSFER)
    checkpoints = len(service.ledger.writer.checkpoints())
    batch = [service.prepare_decision(principal, TRANSFER | {"id": f"b-{i}"}) for i in range(7)]
    service._write_batch(batch)
    views = [item.done.result()[1] for item in batch]
    # One checkpoint for the whole batch, signed in the batch's transaction.
    assert len(service.ledger.writer.checkpoints()) == checkpoints + 1
    assert len({view["receipt"]["checkpoint"] for view in views}) == 1
    verifier = Verifier.from_text(service.ledger.verifier_key())
    for view in views:
        verified = verify_bundle(view["receipt"], verifier, origin=service.ledger.origin)
        assert verified.leaf_index == view["leaf_index"]
        assert verified.entry.body["digest"] == view["digest"]
        # The stored decision and its digest match what was acknowledged.
        stored = service.get_decision(OPERATOR, view["id"])
        assert stored["digest"] == view["digest"]
        assert stored["decision"] == view["decision"]
        assert stored["transfer"] == view["transfer"]
    assert service.ledger.writer.verify().size == service.ledger.size()


def test_two_writers_on_one_database_keep_one_consistent_log(service: Any, settings: Any) -> None:
    """Two services on one database (as two worker processes): their batches interleave, each
    one's log writer notices the other's appends, and every receipt verifies."""
    from accord.ledger.checkpoint import Verifier
    from accord.service import Service

    service.ensure_shipped_packs()
    org = service.create_org(OPERATOR, name="Org", country="DE")
    token = make_account(service, email="m@x.org", role="member", org_id=org["id"]).token
    other = Service(settings, migrate=False)
    try:
        views: list[dict[str, Any]] = []
        lock = threading.Lock()

        errors: list[BaseException] = []

        def run(svc: Any, n: int) -> None:
            try:
                principal = svc.authenticate_token(token)
                for i in range(n):
                    view = svc.decide(principal, TRANSFER | {"id": f"{id(svc)}-{i}"})
                    with lock:
                        views.append(view)
            except Exception as exc:  # reported below, in the test's thread
                errors.append(exc)

        threads = [
            threading.Thread(target=run, args=(svc, 15)) for svc in (service, other, service, other)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == [], [e.diagnostics[0].message for e in errors if hasattr(e, "diagnostics")]
        assert sorted(v["leaf_index"] for v in views) == list(range(60))
        verifier = Verifier.from_text(service.ledger.verifier_key())
        for view in views:
            verify_bundle(view["receipt"], verifier, origin=service.ledger.origin)
        report = service.ledger.writer.verify()
        assert report.size == 60
        assert service.count_rows()["decisions"] == 60
    finally:
        other.close()


def test_consecutive_batches_build_on_the_last_one_without_reading_it_back(service: Any) -> None:
    """A batch signed in place leaves its checkpoint and last proof in memory; the next batch
    starts from them while the tree still has that size, and reads them again when it does not
    (another writer appended in between). Every checkpoint still extends the one before."""
    from accord.ledger.checkpoint import Verifier
    from accord.ledger.entries import Entry

    service.ensure_shipped_packs()
    org = service.create_org(OPERATOR, name="Org", country="DE")
    principal = service.authenticate_token(
        make_account(service, email="m@x.org", role="member", org_id=org["id"]).token
    )
    bridge = service.ledger
    reads: list[tuple[int, int | None]] = []
    real_proof = bridge.reader.inclusion_proof

    def counting_proof(index: int, size: int | None = None) -> Any:
        reads.append((index, size))
        return real_proof(index, size)

    bridge.reader.inclusion_proof = counting_proof  # type: ignore[method-assign]
    verifier = Verifier.from_text(bridge.verifier_key())
    views: list[dict[str, Any]] = []

    def batch(tag: str, n: int) -> None:
        items = [
            service.prepare_decision(principal, TRANSFER | {"id": f"{tag}-{i}"}) for i in range(n)
        ]
        service.write_batch(items)
        views.extend(item.done.result()[1] for item in items)

    service.decide(principal, TRANSFER)  # the log's first batch: no older part to read
    batch("a", 3)
    first_reads = len(reads)
    assert first_reads == 0
    batch("b", 4)
    batch("c", 2)
    assert len(reads) == first_reads  # built on the batch before, from memory
    bridge.sign()  # another checkpoint of the same tree, signed out of band: still the same tree
    batch("d", 2)
    assert len(reads) == first_reads
    bridge.writer.append([Entry("note", {"text": "appended by another writer"})])
    bridge.sign()  # ... and signed: the next batch can extend that checkpoint
    batch("e", 3)  # the tree grew behind the bridge's back: it reads the edge again
    assert len(reads) == first_reads + 1
    batch("f", 1)
    assert len(reads) == first_reads + 1
    for view in views:
        verified = verify_bundle(view["receipt"], verifier, origin=bridge.origin)
        assert verified.leaf_index == view["leaf_index"]
    notes = {view["receipt"]["checkpoint"] for view in views}
    assert len(notes) == 6  # one checkpoint per batch (a to f), signed in place
    # Every stored checkpoint matches the recomputed tree, with a valid signature.
    report = bridge.writer.verify(verifiers=[verifier])
    assert report.size == bridge.size()
    assert report.signatures_checked == report.checkpoints


def test_a_prepared_decision_s_entry_bytes_are_its_entry_s_canonical_form(service: Any) -> None:
    """The log entry's bytes are made straight from the envelope; they must be exactly what
    ``Entry.to_bytes`` makes of it (and what ``Entry.from_bytes`` accepts)."""
    from accord.ledger.entries import Entry

    service.ensure_shipped_packs()
    org = service.create_org(OPERATOR, name="Org", country="DE")
    principal = service.authenticate_token(
        make_account(service, email="m@x.org", role="member", org_id=org["id"]).token
    )
    for i, changes in enumerate([{}, {"purposes": ["analytics"]}, {"id": "é \\u0001 ✓"}]):
        pending = service.prepare_decision(principal, TRANSFER | {"id": f"e-{i}"} | changes)
        assert pending.entry_bytes == Entry.from_mapping(pending.entry).to_bytes()
        assert (
            Entry.from_bytes(pending.entry_bytes).to_dict()
            == Entry.from_mapping(pending.entry).to_dict()
        )


_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)


# One service for every example: the log grows from one example to the next, as it does in use.
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    texts=st.lists(_TEXT, min_size=1, max_size=6),
    # Before the batch: nothing yet, or a tree whose edge proof has hashes of its own.
    before=st.integers(min_value=0, max_value=9),
)
def test_receipts_rendered_as_json_are_the_receipts(
    service: Any, texts: list[str], before: int
) -> None:
    """The sequencer's answers carry receipts rendered straight to JSON bytes; parsed, each is
    the receipt built as a dict, and it verifies (any entry text, non-ASCII included)."""
    import json

    from accord.ledger.checkpoint import Verifier
    from accord.ledger.entries import Entry

    bridge = service.ledger
    for i in range(before):
        with service.db.write() as session:
            bridge.batch_receipts(
                bridge.append_encoded_batch_in(
                    session.connection(), [Entry("note", {"text": f"earlier {i}"}).to_bytes()]
                )
            )
    datas = [Entry("note", {"text": text}).to_bytes() for text in texts]
    with service.db.write() as session:
        appended = bridge.append_encoded_batch_in(session.connection(), datas)
    rendered = bridge.batch_receipts_json(appended)
    assert rendered is not None  # signed in place
    receipts = bridge.batch_receipts(appended)
    assert [json.loads(r) for r in rendered] == receipts
    verifier = Verifier.from_text(bridge.verifier_key())
    for raw, leaf in zip(rendered, appended.leaves, strict=True):
        assert verify_bundle(json.loads(raw), verifier, origin=bridge.origin).leaf_index == leaf


def test_a_batch_not_signed_in_place_has_no_rendered_receipts(service: Any) -> None:
    from accord.storage.ledger_bridge import AppendedBatch

    assert service.ledger.batch_receipts_json(AppendedBatch([0], [b"{}"], None, None)) is None
