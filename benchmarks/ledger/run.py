"""Transparency log benchmark: Accord's stored log vs pymerkle's SqliteTree, side by side.

Both get the same leaves (the RFC 8785 bytes of the same entries), appended in the same durable
batches (one transaction per batch, SQLite WAL with synchronous=FULL for both), then serve random
inclusion and consistency proofs at the full tree size. Accord's appends are timed twice: from
``Entry`` objects (canonicalised inside ``append``) and from ready canonical bytes
(``append_encoded``), which is what pymerkle is given. The two trees' roots are compared at the
end, so the figures are for the same RFC 6962 tree.

    python benchmarks/ledger/run.py            # 1,000,000 leaves
    python benchmarks/ledger/run.py --quick    # 100,000 leaves
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from accord.ledger import merkle
from accord.ledger._hashing import NATIVE
from accord.ledger.entries import Entry
from accord.ledger.store import Ledger


def _entries(start: int, count: int) -> list[Entry]:
    return [
        Entry(
            "decision",
            {
                "transfer": f"tx-{i:08d}",
                "outcome": "permit" if i % 3 else "deny",
                "packs": ["eu-gdpr", "cn-pipl"],
                "rules": [f"rule-{i % 97}"],
                "n": i,
            },
        )
        for i in range(start, start + count)
    ]


def _latency(fn: Callable[[], object], samples: int, budget_s: float) -> tuple[list[float], float]:
    """Per-call wall seconds for up to ``samples`` calls (stopping after ``budget_s``), and the
    mean CPU seconds per call (this process), which a busy machine does not inflate."""
    times: list[float] = []
    deadline = time.perf_counter() + budget_s
    cpu = time.process_time()
    for _ in range(samples):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
        if time.perf_counter() > deadline:
            break
    return times, (time.process_time() - cpu) / len(times)


def _fmt_us(times: list[float], cpu: float) -> str:
    times = sorted(times)
    p50 = statistics.median(times) * 1e6
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))] * 1e6
    mean = statistics.fmean(times) * 1e6
    return f"{mean:,.0f} µs (p50 {p50:,.0f}, p99 {p99:,.0f}; CPU {cpu * 1e6:,.0f})"


def phases(n: int, batch: int) -> None:
    """Where a durable batch of ready entries goes: Accord's append step by step (what
    ``Ledger._append_bytes`` does, timed around each step) beside a bare one-row-per-entry
    SQLite table as pymerkle keeps it (hash, insert, commit), beside the floor of any SQLite
    layout (one row per batch) and beside pymerkle itself. Same entries, same pragmas."""
    import hashlib

    from accord.ledger._hashing import frame, leaf_hashes, parent_hashes
    from accord.ledger.store import _grow

    batches = [[e.to_bytes() for e in _entries(s, min(batch, n - s))] for s in range(0, n, batch)]
    size = sum(map(len, batches[0])) / len(batches[0])
    print(f"# phases: {n:,} entries of ~{size:.0f} bytes, batches of {batch:,}")
    with tempfile.TemporaryDirectory() as tmp:
        ledger = Ledger.open(Path(tmp) / "phases.db")
        steps = _Steps()
        for datas in batches:
            steps.start()
            raw = ledger.engine.raw_connection()
            cur = raw.cursor()
            edge = ledger._sync(cur)
            steps.lap("lock + head")
            new, tile_rows, bundle_rows = _grow(edge, datas)
            steps.lap("hash (_grow)")
            cur.executemany(ledger._sql_bundles, bundle_rows)
            cur.executemany(ledger._sql_tiles, tile_rows)
            cur.execute(ledger._sql_head, (new.size, new.root))
            steps.lap("insert")
            raw.commit()
            steps.lap("commit")
            ledger._edge = new
            cur.close()
            raw.close()
        steps.report("accord", n)
        ledger.close()

        _time_bare(
            Path(tmp) / "bare.db",
            "CREATE TABLE leaf (id INTEGER PRIMARY KEY AUTOINCREMENT, entry BLOB, hash BLOB)",
            "INSERT INTO leaf (entry, hash) VALUES (?, ?)",
            batches,
            lambda _number, datas: [(d, hashlib.sha256(b"\x00" + d).digest()) for d in datas],
            "one row per entry (pymerkle's layout, no tree)",
        )

        # The floor for any layout that keeps the entries and every tree hash in SQLite: one row
        # per batch, all its entries in one blob and all the hashes it completes in another (no
        # row rewritten, no per-entry row; proofs could not read such a layout in O(log n)).
        def one_row(number: int, datas: list[bytes]) -> list[tuple[object, ...]]:
            level = leaf_hashes(datas)
            levels = [level]
            while len(level) > 32:
                level = parent_hashes(level)
                levels.append(level)
            return [(number, frame(datas, 0, len(datas)), b"".join(levels))]

        _time_bare(
            Path(tmp) / "floor.db",
            "CREATE TABLE batch (id INTEGER PRIMARY KEY, entries BLOB, hashes BLOB)",
            "INSERT INTO batch VALUES (?, ?, ?)",
            batches,
            one_row,
            "one row per batch (the floor: entries and hashes, two blobs)",
        )

        from pymerkle import SqliteTree

        tree = SqliteTree(str(Path(tmp) / "pymerkle.db"))
        tree.con.execute("PRAGMA journal_mode=WAL")
        tree.con.execute("PRAGMA synchronous=FULL")
        steps = _Steps()
        for datas in batches:
            steps.start()
            tree.append_entries(datas)
            steps.lap("append_entries")
        steps.report("pymerkle SqliteTree (the peer, same entries and pragmas)", n)
        tree.close()


def _time_bare(
    path: Path,
    ddl: str,
    insert: str,
    batches: list[list[bytes]],
    rows_of: Callable[[int, list[bytes]], list[tuple[object, ...]]],
    title: str,
) -> None:
    """Time a bare SQLite table (WAL, ``synchronous=FULL``) fed ``rows_of`` each batch, one
    transaction per batch: the rows' making ("hash"), their insert and the commit."""
    import sqlite3

    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute(ddl)
    steps = _Steps()
    for number, datas in enumerate(batches):
        steps.start()
        rows = rows_of(number, datas)
        steps.lap("hash")
        conn.execute("BEGIN")
        conn.executemany(insert, rows)
        steps.lap("insert")
        conn.execute("COMMIT")
        steps.lap("commit")
    steps.report(title, sum(map(len, batches)))
    conn.close()


class _Steps:
    """Wall time of named steps of a repeated piece of work: ``start()``, then ``lap(name)``
    after each step."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}
        self._mark = 0.0

    def start(self) -> None:
        self._mark = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.spent[name] = self.spent.get(name, 0.0) + now - self._mark
        self._mark = now

    def report(self, title: str, count: int) -> None:
        print(f"{title}: {sum(self.spent.values()) / count * 1e6:.2f} µs per entry")
        for name, seconds in self.spent.items():
            print(f"  {name:<14} {seconds / count * 1e6:.2f} µs")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="100,000 leaves instead of 1,000,000")
    ap.add_argument("--leaves", type=int, default=None)
    ap.add_argument("--batch", type=int, default=1000, help="entries per durable transaction")
    ap.add_argument("--proofs", type=int, default=2000, help="proof samples (Accord)")
    ap.add_argument("--peer-proofs", type=int, default=200, help="proof samples (pymerkle)")
    ap.add_argument("--skip-peer", action="store_true", help="only measure Accord")
    ap.add_argument(
        "--phases",
        action="store_true",
        help="only time the steps of a durable batch (Accord vs one row per entry)",
    )
    args = ap.parse_args(argv)
    n = args.leaves or (100_000 if args.quick else 1_000_000)
    batch = args.batch
    if args.phases:
        phases(n, batch)
        return 0
    rng = random.Random(6962)

    hashing = "native (C, OpenSSL SHA-256)" if NATIVE else "pure Python"
    print(
        f"# ledger benchmark: {n:,} leaves, batches of {batch:,}, {platform.python_version()}, "
        f"hashing: {hashing}"
    )
    results: dict[str, dict[str, str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        # ---- Accord ------------------------------------------------------------------------------
        ledger = Ledger.open(Path(tmp) / "accord.db")
        spent = cpu = 0.0
        for start in range(0, n, batch):
            entries = _entries(start, min(batch, n - start))
            t, c = time.perf_counter(), time.process_time()
            ledger.append(entries)
            spent += time.perf_counter() - t
            cpu += time.process_time() - c
        acc_rate, acc_cpu = n / spent, cpu / n
        idx = [rng.randrange(n) for _ in range(args.proofs)]
        olds = [rng.randrange(1, n) for _ in range(args.proofs)]
        it_i, it_c = iter(idx), iter(olds)
        inc, inc_cpu = _latency(lambda: ledger.inclusion_proof(next(it_i), n), args.proofs, 60)
        con, con_cpu = _latency(lambda: ledger.consistency_proof(next(it_c), n), args.proofs, 60)
        root = ledger.root()
        # Spot-check correctness of what was timed.
        for i in idx[:50]:
            p = ledger.inclusion_proof(i, n)
            assert merkle.verify_inclusion(
                leaf_hash=p.leaf_hash, index=i, size=n, proof=p.hashes, root=root
            )
        for m in olds[:50]:
            assert ledger.consistency_proof(m, n).verify()
        results["Accord Ledger (SQLite)"] = {
            "appends": f"{acc_rate:,.0f}/s (CPU {acc_cpu * 1e6:.1f} µs each)",
            "inclusion": _fmt_us(inc, inc_cpu),
            "consistency": _fmt_us(con, con_cpu),
            "samples": f"{len(inc)} / {len(con)}",
        }
        ledger.close()
        print(
            f"accord (Entry objects): {acc_rate:,.0f} appends/s (CPU {acc_cpu * 1e6:.1f} µs each); "
            f"inclusion {_fmt_us(inc, inc_cpu)}; consistency {_fmt_us(con, con_cpu)}"
        )
        sys.stdout.flush()

        # ---- Accord, fed ready canonical bytes (as pymerkle is) ----------------------------------
        raw = Ledger.open(Path(tmp) / "accord-bytes.db")
        spent = cpu = 0.0
        for start in range(0, n, batch):
            datas = [e.to_bytes() for e in _entries(start, min(batch, n - start))]
            t, c = time.perf_counter(), time.process_time()
            raw.append_encoded(datas, validate=False)
            spent += time.perf_counter() - t
            cpu += time.process_time() - c
        raw_rate, raw_cpu = n / spent, cpu / n
        if raw.root() != root:
            print("ERROR: the two Accord logs disagree on the root", file=sys.stderr)
            return 1
        raw.close()
        results["Accord Ledger (SQLite), ready bytes"] = {
            "appends": f"{raw_rate:,.0f}/s (CPU {raw_cpu * 1e6:.1f} µs each)",
            "inclusion": "(same tree)",
            "consistency": "(same tree)",
            "samples": "",
        }
        print(f"accord (ready bytes): {raw_rate:,.0f} appends/s (CPU {raw_cpu * 1e6:.1f} µs each)")
        sys.stdout.flush()

        # ---- pymerkle ----------------------------------------------------------------------------
        if not args.skip_peer:
            from pymerkle import SqliteTree

            tree = SqliteTree(str(Path(tmp) / "pymerkle.db"))
            tree.con.execute("PRAGMA journal_mode=WAL")
            tree.con.execute("PRAGMA synchronous=FULL")
            spent = cpu = 0.0
            for start in range(0, n, batch):
                datas = [e.to_bytes() for e in _entries(start, min(batch, n - start))]
                t, c = time.perf_counter(), time.process_time()
                tree.append_entries(datas)
                spent += time.perf_counter() - t
                cpu += time.process_time() - c
            pm_rate, pm_cpu = n / spent, cpu / n
            it_i, it_c = iter(idx), iter(olds)
            budget = 120 if n >= 1_000_000 else 60
            p_inc, p_inc_cpu = _latency(
                lambda: tree.prove_inclusion(next(it_i) + 1, n), args.peer_proofs, budget
            )
            p_con, p_con_cpu = _latency(
                lambda: tree.prove_consistency(next(it_c), n), args.peer_proofs, budget
            )
            same_root = tree.get_root(n) == root
            results["pymerkle SqliteTree"] = {
                "appends": f"{pm_rate:,.0f}/s (CPU {pm_cpu * 1e6:.1f} µs each)",
                "inclusion": _fmt_us(p_inc, p_inc_cpu),
                "consistency": _fmt_us(p_con, p_con_cpu),
                "samples": f"{len(p_inc)} / {len(p_con)}",
            }
            tree.close()
            print(
                f"pymerkle: {pm_rate:,.0f} appends/s (CPU {pm_cpu * 1e6:.1f} µs each); "
                f"inclusion {_fmt_us(p_inc, p_inc_cpu)}; "
                f"consistency {_fmt_us(p_con, p_con_cpu)}; same root: {same_root}"
            )
            print(
                f"ratios (Accord / pymerkle): appends {acc_rate / pm_rate:.2f}x from Entry objects "
                f"(CPU per append {pm_cpu / acc_cpu:.2f}x), {raw_rate / pm_rate:.2f}x from ready "
                f"bytes (CPU {pm_cpu / raw_cpu:.2f}x), "
                f"inclusion {statistics.fmean(p_inc) / statistics.fmean(inc):.0f}x faster, "
                f"consistency {statistics.fmean(p_con) / statistics.fmean(con):.0f}x faster; "
                f"proof CPU {p_inc_cpu / inc_cpu:.0f}x / {p_con_cpu / con_cpu:.0f}x less"
            )
            if not same_root:
                print("ERROR: the two trees disagree on the root", file=sys.stderr)
                return 1

    print()
    print("| implementation | durable appends | inclusion proof | consistency proof | samples |")
    print("|---|---|---|---|---|")
    for name, r in results.items():
        print(
            f"| {name} | {r['appends']} | {r['inclusion']} | {r['consistency']} | {r['samples']} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
