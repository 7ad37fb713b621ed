"""The stored log on SQLite and PostgreSQL: proofs, transactions, checkpoints, tamper, crashes."""

from __future__ import annotations

import multiprocessing as mp
import random
import time
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from pathlib import Path

import pytest
import sqlalchemy as sa

from accord.errors import ConflictError, InputError, IntegrityError, NotFoundError
from accord.ledger import merkle, store
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


def test_a_batch_of_more_rows_than_one_statement_takes_is_stored_whole(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL a batch's rows go in multi-row upserts of a bounded size: a batch that
    needs several (some rewriting rows of the batch before) keeps every entry and hash."""
    monkeypatch.setattr(store, "_ROWS_PER_STATEMENT", 3)
    datas = _filled(ledger, [70, 700, 1])  # 11 + 2 chunk rows, 4 leaf-hash rows, …
    n = len(datas)
    assert ledger.head() == (n, merkle.root_hash(datas))
    assert [d for _, _, d in ledger.entries(0, n)] == datas
    for index in (0, 69, 70, 500, n - 1):
        assert list(ledger.inclusion_proof(index, n).hashes) == merkle.inclusion_proof(
            datas, index, n
        )
    ledger.verify()  # raises IntegrityError on any difference


def test_proofs_from_remembered_rows_stay_right_and_verify_still_reads_the_database(
    ledger: Ledger, signer: Signer
) -> None:
    """Proofs keep complete hash rows in memory; the answers stay those of the pure functions
    as the log grows past them, and tampering with a remembered row is still found."""
    datas = _filled(ledger, [600])  # two complete leaf-hash rows (256 each) and a partial one
    for rounds in range(2):  # the second round is answered from remembered rows
        for index in (0, 255, 256, 511, 512, 599):
            proof = ledger.inclusion_proof(index, 600)
            assert list(proof.hashes) == merkle.inclusion_proof(datas, index, 600), rounds
    datas += _filled_more(ledger, len(datas), 100)
    for index in (3, 300, 650):
        assert list(ledger.inclusion_proof(index).hashes) == merkle.inclusion_proof(
            datas, index, 700
        )
    assert list(ledger.consistency_proof(600).hashes) == merkle.consistency_proof(datas, 600, 700)
    ledger.sign_checkpoint(signer)
    _edit_tile(ledger, 0, 0, lambda r: _swap_slots(r, 1, 2))  # a remembered, complete row
    with pytest.raises(IntegrityError):
        ledger.verify(verifiers=[signer.verifier()])
    fresh = Ledger(ledger.engine, origin=ORIGIN, create=False)  # remembers nothing yet
    assert fresh.inclusion_proof(1, 700).root() != merkle.root_hash(datas)
    with pytest.raises(NotFoundError):  # a size the log never had is still refused
        ledger.inclusion_proof(0, 701)


def _filled_more(ledger: Ledger, start: int, count: int) -> list[bytes]:
    batch = _entries(start, count)
    assert ledger.append(batch) == list(range(start, start + count))
    return [e.to_bytes() for e in batch]


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


def test_find_never_trusts_the_lookup_table_alone(ledger: Ledger) -> None:
    datas = _filled(ledger, [300])
    with ledger.engine.connect() as conn:  # appends leave the lookup to `find`
        assert conn.execute(sa.text("SELECT count(*) FROM ledger_lookup")).scalar() == 0
    assert ledger.find(merkle.leaf_hash(datas[299])) == 299
    with ledger.engine.connect() as conn:
        count = conn.execute(sa.text("SELECT count(*) FROM ledger_lookup")).scalar()
    assert count == len({merkle.leaf_hash(d)[:8] for d in datas})
    later = _entries(300, 10)  # later appends are indexed by the next `find`
    assert ledger.append(later) == list(range(300, 310))
    assert ledger.find(merkle.leaf_hash(later[-1].to_bytes())) == 309
    # A lookup row pointing at the wrong leaf, and a lost row: find still answers correctly.
    _exec(ledger, "UPDATE ledger_lookup SET leaf_index = 3 WHERE leaf_index = 250")
    _exec(ledger, "DELETE FROM ledger_lookup WHERE leaf_index = 120")
    assert ledger.find(merkle.leaf_hash(datas[250])) == 250
    assert ledger.find(merkle.leaf_hash(datas[120])) == 120
    assert ledger.find(merkle.leaf_hash(datas[7])) == 7


@pytest.mark.parametrize("validate", [True, False])
@pytest.mark.parametrize(
    ("bad", "found"),
    [
        pytest.param(b"", "bytes", id="empty"),
        pytest.param(b"x" * 0x10000, "bytes", id="too-long"),
        pytest.param("{}", "str", id="str"),
        pytest.param(bytearray(b"{}"), "bytearray", id="bytearray"),
        pytest.param(None, "NoneType", id="none"),
    ],
)
def test_append_encoded_names_the_bad_entry_and_writes_nothing(
    ledger: Ledger, bad: object, found: str, validate: bool
) -> None:
    datas = _filled(ledger, [3])
    good = [e.to_bytes() for e in _entries(3, 300)]
    with pytest.raises(InputError) as caught:
        ledger.append_encoded([*good[:260], bad, *good[260:]], validate=validate)
    diagnostic = caught.value.diagnostics[0]
    assert (diagnostic.path, diagnostic.found) == ("#260", found)
    assert ledger.head() == (3, merkle.root_hash(datas))
    # The same through the caller's transaction (the service's path).
    with pytest.raises(InputError) as caught, ledger.engine.connect() as conn, conn.begin():
        ledger.append_encoded_in(conn, [*good[:260], bad, *good[260:]])  # rolls back
    diagnostic = caught.value.diagnostics[0]
    assert (diagnostic.path, diagnostic.found) == ("#260", found)
    assert ledger.head() == (3, merkle.root_hash(datas))
    assert ledger.append_encoded(good, validate=validate) == list(range(3, 303))
    assert ledger.verify().size == 303


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
    _put(ledger, "ledger_bundles", 0, _bundle(datas))
    for height in range(4):
        row = bytearray(_get(ledger, "ledger_tiles", height << 48))
        node = merkle.Node(height, 3 >> height)
        row[node.index * 32 : node.index * 32 + 32] = merkle.root_hash(datas[node.start : node.end])
        _put(ledger, "ledger_tiles", height << 48, bytes(row))
    _exec(ledger, "UPDATE ledger_state SET root = :r", r=merkle.root_hash(datas))
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


def _get(ledger: Ledger, table: str, row: int) -> bytes:
    with ledger.engine.connect() as conn:
        data = conn.execute(sa.text(f"SELECT data FROM {table} WHERE id = :i"), {"i": row}).scalar()
    assert data is not None
    return bytes(data)


def _put(ledger: Ledger, table: str, row: int, data: bytes) -> None:
    _exec(ledger, f"UPDATE {table} SET data = :d WHERE id = :i", d=data, i=row)


def _bundle(datas: list[bytes]) -> bytes:
    return b"".join(len(d).to_bytes(2, "big") + d for d in datas)


def _edit_chunk(ledger: Ledger, number: int, edit: Callable[[list[bytes]], list[bytes]]) -> None:
    """Rewrite chunk ``number`` of ``ledger_bundles`` (entries ``64·number …``)."""
    first = number * 64
    datas = [ledger.entry(i) for i in range(first, min(first + 64, ledger.size))]
    _put(ledger, "ledger_bundles", number, _bundle(edit(datas)))


def _edit_tile(ledger: Ledger, height: int, index: int, edit: Callable[[bytearray], None]) -> None:
    row = bytearray(_get(ledger, "ledger_tiles", (height << 48) | index))
    edit(row)
    _put(ledger, "ledger_tiles", (height << 48) | index, bytes(row))


def _flip(data: bytes) -> bytes:
    return bytes([data[0] ^ 1]) + data[1:]


def _replace(datas: list[bytes], i: int, data: bytes) -> list[bytes]:
    return [*datas[:i], data, *datas[i + 1 :]]


def _swap_slots(row: bytearray, a: int, b: int) -> None:
    row[a * 32 : a * 32 + 32], row[b * 32 : b * 32 + 32] = (
        row[b * 32 : b * 32 + 32],
        row[a * 32 : a * 32 + 32],
    )


def _zero_slot(row: bytearray, k: int) -> None:
    row[k * 32 : k * 32 + 32] = bytes(32)


def _flip_slot(row: bytearray, k: int) -> None:
    row[k * 32] ^= 1


def _swap_chunk_rows(lg: Ledger) -> None:
    a, b = _get(lg, "ledger_bundles", 0), _get(lg, "ledger_bundles", 1)
    _put(lg, "ledger_bundles", 0, b)
    _put(lg, "ledger_bundles", 1, a)


# The tampered log has 300 entries: five chunks of entries (four of 64, the last of 44; two
# tlog-tiles bundles) and two leaf-hash rows, so every kind of row (full and partial chunk, every
# height of hash row, the tree head, the checkpoints) is changed, removed, reordered or added below.
TAMPERS: dict[str, Callable[[Ledger], None]] = {
    "entry bytes": lambda lg: _edit_chunk(
        lg, 0, lambda d: _replace(d, 7, Entry("event", {"i": 7, "note": "entry 8"}).to_bytes())
    ),
    "entry bytes in the second chunk": lambda lg: _edit_chunk(
        lg, 1, lambda d: _replace(d, 3, Entry("event", {"i": 67, "note": "x"}).to_bytes())
    ),
    "entry bytes in the partial chunk": lambda lg: _edit_chunk(
        lg, 4, lambda d: _replace(d, 3, Entry("event", {"i": 259, "note": "x"}).to_bytes())
    ),
    "non-canonical entry with its hash": lambda lg: (
        _edit_chunk(lg, 0, lambda d: _replace(d, 9, b"{}")),
        _edit_tile(lg, 0, 0, lambda r: r.__setitem__(slice(288, 320), merkle.leaf_hash(b"{}"))),
    ),
    "leaf hash": lambda lg: _edit_tile(lg, 0, 0, lambda r: _flip_slot(r, 7)),
    "leaf hash in the partial row": lambda lg: _edit_tile(lg, 0, 1, lambda r: _flip_slot(r, 43)),
    "interior hash": lambda lg: _edit_tile(lg, 2, 0, lambda r: _zero_slot(r, 1)),
    "top interior hash": lambda lg: _edit_tile(lg, 8, 0, lambda r: _flip_slot(r, 0)),
    "deleted entry": lambda lg: _edit_chunk(lg, 0, lambda d: d[:11] + d[12:]),
    "deleted last entry": lambda lg: _edit_chunk(lg, 4, lambda d: d[:-1]),
    "appended entry": lambda lg: _edit_chunk(lg, 4, lambda d: [*d, d[0]]),
    "entry added to a full chunk": lambda lg: _edit_chunk(lg, 2, lambda d: [*d, d[0]]),
    "deleted chunk": lambda lg: _exec(lg, "DELETE FROM ledger_bundles WHERE id = 0"),
    "deleted chunk inside a bundle": lambda lg: _exec(
        lg, "DELETE FROM ledger_bundles WHERE id = 2"
    ),
    "deleted last chunk": lambda lg: _exec(lg, "DELETE FROM ledger_bundles WHERE id = 4"),
    "extra chunk": lambda lg: _exec(
        lg, "INSERT INTO ledger_bundles (id, data) VALUES (9, :d)", d=_bundle([b"{}"])
    ),
    "malformed chunk": lambda lg: _put(lg, "ledger_bundles", 4, _get(lg, "ledger_bundles", 4)[:-5]),
    "swapped entries": lambda lg: (
        _edit_chunk(lg, 0, lambda d: [*d[:4], d[5], d[4], *d[6:]]),
        _edit_tile(lg, 0, 0, lambda r: _swap_slots(r, 4, 5)),
    ),
    "swapped chunk rows": _swap_chunk_rows,
    "deleted hash row": lambda lg: _exec(lg, "DELETE FROM ledger_tiles WHERE id = :i", i=1 << 48),
    "deleted leaf-hash row": lambda lg: _exec(lg, "DELETE FROM ledger_tiles WHERE id = 1"),
    "truncated hash row": lambda lg: _put(lg, "ledger_tiles", 1, _get(lg, "ledger_tiles", 1)[:-32]),
    "extra hash row": lambda lg: _exec(
        lg, "INSERT INTO ledger_tiles (id, data) VALUES (:i, :d)", i=(1 << 48) | 999, d=bytes(32)
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
    "tree head": lambda lg: _exec(lg, "UPDATE ledger_state SET size = 298"),
    "tree head root": lambda lg: _exec(lg, "UPDATE ledger_state SET root = :r", r=bytes(32)),
}


@pytest.mark.parametrize("what", list(TAMPERS))
def test_verify_detects_tampering(ledger: Ledger, signer: Signer, what: str) -> None:
    _filled(ledger, [300])
    ledger.sign_checkpoint(signer)
    ledger.verify(verifiers=[signer.verifier()])
    TAMPERS[what](ledger)
    with pytest.raises(IntegrityError) as info:
        ledger.verify(verifiers=[signer.verifier()])
    assert info.value.diagnostics, what
    assert info.value.exit_code == 5


# -- crash safety ---------------------------------------------------------------------------------


def _writer(db: str, batch: int, acks: Connection) -> None:
    """The child: append batches forever, reporting each acknowledged (durable) last index."""
    log = Ledger.open(db)
    n = log.size
    while True:
        last = log.append([Entry("event", {"i": n + k}) for k in range(batch)])[-1]
        acks.send(last)  # acknowledged: committed and synced
        n = last + 1


@pytest.mark.slow
def test_acknowledged_appends_survive_sigkill(tmp_path: Path) -> None:
    # Children come from a fork server with the log's modules preloaded: quick to start, and not
    # forked from this (possibly multi-threaded) test process.
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["accord.ledger.store"])
    db = str(tmp_path / "crash.db")
    rng = random.Random(1)
    acknowledged = -1
    for kill in range(1, 22):
        recv, send = ctx.Pipe(duplex=False)
        child = ctx.Process(target=_writer, args=(db, rng.choice([1, 7, 50, 200]), send))
        child.start()
        send.close()
        for _ in range(rng.randrange(1, 5)):
            assert recv.poll(60), "the writer produced no acknowledgement"
            acknowledged = max(acknowledged, recv.recv())
        time.sleep(rng.random() / 200)  # land anywhere in the next batch
        child.kill()  # SIGKILL
        child.join()
        child.close()
        recv.close()
        log = Ledger.open(db)
        assert log.size > acknowledged, f"lost acknowledged entries after kill {kill}"
        log.verify()
        log.close()
    log = Ledger.open(db)
    assert log.size > acknowledged >= 21
    for i, _h, data in log.entries():
        assert Entry.from_bytes(data).body == {"i": i}
    log.close()


# -- the earlier row-per-entry layout -------------------------------------------------------------


def _legacy_log(db_url: str, datas: list[bytes], root: bytes) -> sa.Engine:
    """A log as the row-per-entry layout stored it: one row per entry and per interior node."""
    legacy = sa.MetaData()
    entries = sa.Table(
        "ledger_entries",
        legacy,
        sa.Column("idx", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("hash_key", sa.BigInteger(), nullable=False),
        sa.Column("entry", sa.LargeBinary(), nullable=False),
    )
    nodes = sa.Table(
        "ledger_nodes",
        legacy,
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
    )
    state = sa.Table(
        "ledger_state",
        legacy,
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.LargeBinary(32), nullable=False),
    )
    engine = open_engine(db_url)
    legacy.create_all(engine)
    frontier = merkle.Frontier()
    node_rows = []
    for data in datas:
        for level, index, h in frontier.append(merkle.leaf_hash(data)):
            node_rows.append({"id": (level << 48) | index, "hash": h})
    with engine.begin() as conn:
        conn.execute(
            entries.insert(),
            [
                {"idx": i, "leaf_hash": merkle.leaf_hash(d), "hash_key": i, "entry": d}
                for i, d in enumerate(datas)
            ],
        )
        conn.execute(nodes.insert(), node_rows)
        conn.execute(state.insert(), {"id": 1, "size": len(datas), "root": root})
    return engine


def test_a_log_in_the_earlier_layout_is_converted(db_url: str) -> None:
    datas = [e.to_bytes() for e in _entries(0, 300)]
    engine = _legacy_log(db_url, datas, merkle.root_hash(datas))
    ledger = Ledger(engine, origin=ORIGIN)
    assert ledger.head() == (300, merkle.root_hash(datas))
    assert list(ledger.inclusion_proof(7).hashes) == merkle.inclusion_proof(datas, 7, 300)
    assert ledger.entry(299) == datas[299]
    ledger.verify()
    assert "ledger_entries" not in sa.inspect(engine).get_table_names()
    assert ledger.append(_entries(300, 3)) == [300, 301, 302]
    ledger.verify()
    engine.dispose()


def test_a_damaged_log_in_the_earlier_layout_is_left_alone(db_url: str) -> None:
    datas = [e.to_bytes() for e in _entries(0, 10)]
    engine = _legacy_log(db_url, datas, bytes(32))
    with pytest.raises(IntegrityError, match="not converted"):
        Ledger(engine, origin=ORIGIN)
    assert "ledger_entries" in sa.inspect(engine).get_table_names()
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM ledger_bundles")).scalar() == 0
    engine.dispose()


# -- entries stored whole (before chunks) are split into chunks, and back -----------------------


def _bundle_rows(ledger: Ledger) -> dict[int, bytes]:
    with ledger.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, data FROM ledger_bundles ORDER BY id")).all()
    return {int(i): bytes(d) for i, d in rows}


@pytest.mark.parametrize("size", [1, 64, 65, 256, 300, 600])
def test_bundles_stored_whole_are_split_into_chunks_and_back(
    ledger: Ledger, signer: Signer, size: int
) -> None:
    from accord.ledger.store import chunk_bundles, join_chunks

    datas = _filled(ledger, [size])
    ledger.sign_checkpoint(signer)
    chunks = _bundle_rows(ledger)
    assert len(chunks) == (size + 63) // 64
    with ledger.engine.begin() as conn:  # as a log written before chunks stored it
        join_chunks(conn)
    whole = _bundle_rows(ledger)
    assert whole == {n: _bundle(datas[n * 256 : n * 256 + 256]) for n in range((size + 255) // 256)}
    with ledger.engine.begin() as conn:
        split = chunk_bundles(conn)
        assert split == (len(whole) if size > 64 else 0)  # up to 64 entries: the same either way
        assert chunk_bundles(conn) == 0  # done once
    assert _bundle_rows(ledger) == chunks
    assert [ledger.entry(i) for i in range(size)] == datas
    ledger.verify(verifiers=[signer.verifier()])


def test_opening_a_log_stored_whole_converts_it(db_url: str, signer: Signer) -> None:
    from accord.ledger.store import join_chunks

    log = Ledger.open(db_url, origin=ORIGIN)
    try:
        datas = _filled(log, [500])
        with log.engine.begin() as conn:
            join_chunks(conn)
    finally:
        log.close()
    log = Ledger.open(db_url, origin=ORIGIN)  # create_tables splits the bundles
    try:
        assert len(_bundle_rows(log)) == 8
        assert log.verify().size == 500
        assert [log.entry(i) for i in (0, 255, 256, 499)] == [datas[i] for i in (0, 255, 256, 499)]
        log.append(_entries(500, 30))  # and appending goes on in chunks
        assert log.verify().size == 530
        assert len(_bundle_rows(log)) == 9
    finally:
        log.close()
