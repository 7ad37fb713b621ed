"""The stored log on SQLite and PostgreSQL: proofs, transactions, checkpoints, tamper, crashes."""

from __future__ import annotations

import os
import random
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from accord.errors import ConflictError, IntegrityError, NotFoundError
from accord.ledger import merkle
from accord.ledger.checkpoint import Signer
from accord.ledger.entries import Entry
from accord.ledger.store import Ledger, create_tables, open_engine

ORIGIN = "accord.test/log"


def _entries(start: int, count: int) -> list[Entry]:
    return [Entry("event", {"i": i, "note": f"entry {i}"}) for i in range(start, start + count)]


@pytest.fixture
def ledger(db_url: str) -> Iterator[Ledger]:
    log = Ledger.open(db_url, origin=ORIGIN)
    try:
        yield log
    finally:
        log.close()


@pytest.fixture
def signer() -> Signer:
    return Signer.generate(ORIGIN)


def _filled(ledger: Ledger, sizes: list[int]) -> list[bytes]:
    datas: list[bytes] = []
    for count in sizes:
        batch = _entries(len(datas), count)
        assert ledger.append(batch) == list(range(len(datas), len(datas) + count))
        datas += [e.to_bytes() for e in batch]
    return datas


def test_proofs_match_the_pure_functions(ledger: Ledger) -> None:
    datas = _filled(ledger, [1, 2, 5, 64, 1, 300])
    n = len(datas)
    assert ledger.size == n
    assert ledger.head() == (n, merkle.root_hash(datas))
    rng = random.Random(7)
    for size in [1, 2, 3, 8, 63, 64, 65, 200, n - 1, n]:
        assert ledger.root(size) == merkle.root_hash(datas[:size])
        for index in {0, size - 1, rng.randrange(size)}:
            proof = ledger.inclusion_proof(index, size)
            assert list(proof.hashes) == merkle.inclusion_proof(datas, index, size)
            assert proof.leaf_hash == merkle.leaf_hash(datas[index])
            assert proof.root() == ledger.root(size)
        for old in {0, 1, size // 2, size}:
            c = ledger.consistency_proof(old, size)
            assert list(c.hashes) == merkle.consistency_proof(datas, old, size)
            assert c.verify()
    assert ledger.entry(5) == datas[5]
    assert [i for i, _, _ in ledger.entries(10, 13)] == [10, 11, 12]


def test_out_of_range_requests_are_not_found(ledger: Ledger) -> None:
    _filled(ledger, [4])
    with pytest.raises(NotFoundError):
        ledger.inclusion_proof(4)
    with pytest.raises(NotFoundError):
        ledger.inclusion_proof(0, 9)
    with pytest.raises(NotFoundError):
        ledger.consistency_proof(5)
    with pytest.raises(NotFoundError):
        ledger.entry(4)
    with pytest.raises(NotFoundError):
        ledger.read_tile(0, 0, 5)


def test_find_by_leaf_hash(ledger: Ledger) -> None:
    datas = _filled(ledger, [100, 100])
    for i in (0, 57, 199):
        assert ledger.find(merkle.leaf_hash(datas[i])) == i
    assert ledger.find(bytes(32)) is None


def test_append_in_commits_with_the_callers_transaction(db_url: str) -> None:
    engine = open_engine(db_url)
    create_tables(engine)
    ledger = Ledger(engine, origin=ORIGIN, create=False)
    ledger.append(_entries(0, 3))
    with engine.connect() as conn:
        trans = conn.begin()
        assert ledger.append_in(conn, _entries(3, 2)) == [3, 4]
        trans.rollback()
    assert ledger.size == 3
    # The cached right edge was for size 5; the next append must notice and start at 3 again.
    assert ledger.append(_entries(3, 2)) == [3, 4]
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE IF NOT EXISTS t_side (x INTEGER)"))
        conn.execute(sa.text("INSERT INTO t_side VALUES (1)"))
        assert ledger.append_in(conn, [{"type": "decision", "body": {"ok": True}}]) == [5]
    assert ledger.size == 6
    ledger.verify()
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE t_side"))
    engine.dispose()


def test_two_writers_on_one_database_stay_consistent(db_url: str) -> None:
    a = Ledger.open(db_url, origin=ORIGIN)
    b = Ledger.open(db_url, origin=ORIGIN)
    a.append(_entries(0, 3))
    b.append(_entries(3, 4))  # b's view is stale: it must reload, not fork the tree
    a.append(_entries(7, 1))
    datas = [e.to_bytes() for e in _entries(0, 8)]
    assert a.root() == b.root() == merkle.root_hash(datas)
    a.verify()
    a.close()
    b.close()


def test_checkpoints_are_stored_and_must_extend_the_last_one(
    ledger: Ledger, signer: Signer
) -> None:
    _filled(ledger, [10])
    first = ledger.sign_checkpoint(signer)
    assert (first.checkpoint.origin, first.checkpoint.size) == (ORIGIN, 10)
    assert first.checkpoint.root == ledger.root()
    ledger.append(_entries(10, 5))
    second = ledger.sign_checkpoint(signer)
    assert [c.checkpoint.size for c in ledger.checkpoints()] == [10, 15]
    assert ledger.latest_checkpoint() == second
    report = ledger.verify(verifiers=[signer.verifier()])
    assert (report.size, report.checkpoints, report.signatures_checked) == (15, 2, 2)

    other = Ledger(ledger.engine, origin="another/log", create=False)
    with pytest.raises(ConflictError, match="origin"):
        other.sign_checkpoint(signer)

    # Rewrite history behind the log's back, consistently: entry 3, its leaf hash, every interior
    # hash above it and the tree head. Only the signed checkpoints remember the truth.
    datas = [e.to_bytes() for e in _entries(0, 15)]
    datas[3] = Entry("event", {"i": 3, "note": "forged"}).to_bytes()
    with ledger.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE ledger_entries SET entry = :e, leaf_hash = :h WHERE idx = 3"),
            {"e": datas[3], "h": merkle.leaf_hash(datas[3])},
        )
        for level in range(1, 4):
            node = merkle.Node(level, 3 >> level)
            conn.execute(
                sa.text("UPDATE ledger_nodes SET hash = :h WHERE id = :id"),
                {
                    "h": merkle.root_hash(datas[node.start : node.end]),
                    "id": (level << 48) | node.index,
                },
            )
        conn.execute(sa.text("UPDATE ledger_state SET root = :r"), {"r": merkle.root_hash(datas)})
    fresh = Ledger(ledger.engine, origin=ORIGIN, create=False)
    assert fresh.root() == merkle.root_hash(datas)  # the forgery is internally consistent
    with pytest.raises(ConflictError, match="not consistent"):
        fresh.sign_checkpoint(signer)
    with pytest.raises(IntegrityError, match="verification"):
        fresh.verify()


# -- tampering ------------------------------------------------------------------------------------


def _exec(ledger: Ledger, sql: str, **params: object) -> None:
    with ledger.engine.begin() as conn:
        conn.execute(sa.text(sql), params)


def _flip(data: bytes) -> bytes:
    return bytes([data[0] ^ 1]) + data[1:]


TAMPERS = {
    "entry bytes": lambda lg: _exec(
        lg,
        "UPDATE ledger_entries SET entry = :e WHERE idx = 7",
        e=Entry("event", {"i": 7, "note": "entry 8"}).to_bytes(),
    ),
    "leaf hash": lambda lg: _exec(
        lg,
        "UPDATE ledger_entries SET leaf_hash = :h WHERE idx = 7",
        h=_flip(lg.leaf_hash(7)),
    ),
    "interior hash": lambda lg: _exec(
        lg,
        "UPDATE ledger_nodes SET hash = :h WHERE id = :id",
        h=bytes(32),
        id=(2 << 48) | 1,
    ),
    "deleted entry": lambda lg: _exec(lg, "DELETE FROM ledger_entries WHERE idx = 11"),
    "deleted last entry": lambda lg: _exec(lg, "DELETE FROM ledger_entries WHERE idx = 19"),
    "deleted node": lambda lg: _exec(
        lg, "DELETE FROM ledger_nodes WHERE id = :id", id=(1 << 48) | 2
    ),
    "swapped rows": lambda lg: _exec(
        lg,
        "UPDATE ledger_entries SET "
        "entry = CASE idx WHEN 4 THEN :e5 ELSE :e4 END, "
        "leaf_hash = CASE idx WHEN 4 THEN :h5 ELSE :h4 END WHERE idx IN (4, 5)",
        e4=lg.entry(4),
        e5=lg.entry(5),
        h4=lg.leaf_hash(4),
        h5=lg.leaf_hash(5),
    ),
    "checkpoint note": lambda lg: _exec(
        lg,
        "UPDATE ledger_checkpoints SET note = :n",
        n=lg.checkpoints()[0].note.replace(f"\n{lg.checkpoints()[0].checkpoint.size}\n", "\n3\n"),
    ),
    "checkpoint signature": lambda lg: _exec(
        lg,
        "UPDATE ledger_checkpoints SET note = :n",
        n=lg.checkpoints()[0].note[:-10]
        + ("A" if lg.checkpoints()[0].note[-10] != "A" else "B")
        + lg.checkpoints()[0].note[-9:],
    ),
    "checkpoint root column": lambda lg: _exec(
        lg, "UPDATE ledger_checkpoints SET root = :r", r=bytes(32)
    ),
    "tree head": lambda lg: _exec(lg, "UPDATE ledger_state SET size = 18"),
    "extra node": lambda lg: _exec(
        lg, "INSERT INTO ledger_nodes (id, hash) VALUES (:id, :h)", id=(1 << 48) | 999, h=bytes(32)
    ),
}


@pytest.mark.parametrize("what", list(TAMPERS))
def test_verify_detects_tampering(ledger: Ledger, signer: Signer, what: str) -> None:
    _filled(ledger, [20])
    ledger.sign_checkpoint(signer)
    ledger.verify(verifiers=[signer.verifier()])
    TAMPERS[what](ledger)
    with pytest.raises(IntegrityError) as info:
        ledger.verify(verifiers=[signer.verifier()])
    assert info.value.diagnostics, what
    assert info.value.exit_code == 5


# -- crash safety ---------------------------------------------------------------------------------


def _writer(db: Path, batch: int, ack_fd: int) -> None:
    """The child: append batches forever, reporting each acknowledged (durable) last index."""
    log = Ledger.open(db)
    n = log.size
    with os.fdopen(ack_fd, "w", buffering=1) as acks:
        while True:
            last = log.append([Entry("event", {"i": n + k}) for k in range(batch)])[-1]
            acks.write(f"{last}\n")  # acknowledged: committed and synced
            n = last + 1


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_acknowledged_appends_survive_sigkill(tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    rng = random.Random(1)
    acknowledged = -1
    for kill in range(1, 22):
        read_fd, write_fd = os.pipe()
        pid = os.fork()  # a child process with the modules already imported: quick to start
        if pid == 0:  # pragma: no cover - runs in the child, which only ever dies by SIGKILL
            try:
                os.close(read_fd)
                _writer(db, rng.choice([1, 7, 50, 200]), write_fd)
            finally:
                os._exit(1)
        os.close(write_fd)
        with os.fdopen(read_fd) as acks:
            for _ in range(rng.randrange(1, 5)):
                line = acks.readline()
                if not line:
                    break
                acknowledged = max(acknowledged, int(line))
            time.sleep(rng.random() / 200)  # land anywhere in the next batch
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        log = Ledger.open(db)
        assert log.size > acknowledged, f"lost acknowledged entries after kill {kill}"
        log.verify()
        log.close()
    log = Ledger.open(db)
    assert log.size > acknowledged >= 21
    for i, _h, data in log.entries():
        assert Entry.from_bytes(data).body == {"i": i}
    log.close()
