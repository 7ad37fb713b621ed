"""RFC 6962 hashing and proofs against the public transparency-dev/merkle vectors."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from accord.ledger import merkle

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "ledger"
V = json.loads((ASSETS / "rfc6962.json").read_text(encoding="utf-8"))
LEAVES = [bytes.fromhex(x) for x in V["leaves"]]
ROOTS = [bytes.fromhex(x) for x in V["roots"]]
NODES = [[bytes.fromhex(x) for x in level] for level in V["node_hashes"]]
SOME_HASH = bytes.fromhex(V["some_hash"])
EMPTY = merkle.EMPTY_ROOT


def test_empty_root_is_sha256_of_nothing() -> None:
    assert merkle.root_hash([]) == ROOTS[0]
    assert ROOTS[0].hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.parametrize("size", range(9))
def test_roots_of_every_prefix(size: int) -> None:
    assert merkle.root_hash(LEAVES[:size]) == ROOTS[size]


def test_node_hashes_of_every_complete_subtree() -> None:
    hashes = [merkle.leaf_hash(d) for d in LEAVES]
    assert hashes == NODES[0]
    for level in range(1, len(NODES)):
        for index, want in enumerate(NODES[level]):
            node = merkle.Node(level, index)
            got = merkle.fold([merkle.root_hash(LEAVES[node.start : node.end])])
            assert got == want


@pytest.mark.parametrize("size", range(9))
def test_frontier_is_the_compact_range(size: int) -> None:
    frontier = merkle.Frontier()
    for d in LEAVES[:size]:
        frontier.append(merkle.leaf_hash(d))
    want = [NODES[n.level][n.index] for n in merkle.range_nodes(0, size)]
    assert frontier.hashes == want
    assert frontier.root() == ROOTS[size]


def _probes_inclusion(
    index: int, size: int, proof: list[bytes], root: bytes, leaf: bytes
) -> list[tuple[str, int, int, bytes, list[bytes], bytes]]:
    """transparency-dev's corruptInclusionProof, case for case."""
    out = [
        ("leafIndex - 1", index - 1, size, root, proof, leaf),
        ("leafIndex + 1", index + 1, size, root, proof, leaf),
        ("leafIndex ^ 2", index ^ 2, size, root, proof, leaf),
        ("treeSize * 2", index, size * 2, root, proof, leaf),
        ("treeSize / 2", index, size // 2, root, proof, leaf),
        ("wrong leaf", index, size, root, proof, b"WrongLeaf"),
        ("empty root", index, size, EMPTY, proof, leaf),
        ("random root", index, size, SOME_HASH, proof, leaf),
        ("trailing garbage", index, size, root, [*proof, b""], leaf),
        ("trailing root", index, size, root, [*proof, root], leaf),
        ("preceding garbage", index, size, root, [b"", *proof], leaf),
        ("preceding root", index, size, root, [root, *proof], leaf),
    ]
    for i in range(len(proof)):
        wrong = list(proof)
        wrong[i] = bytes([wrong[i][0] ^ 8]) + wrong[i][1:]
        out.append((f"modified proof[{i}] bit 3", index, size, root, wrong, leaf))
    if proof:
        out.append(("removed component", index, size, root, proof[:-1], leaf))
    if len(proof) > 1:
        out.append(
            ("inserted component", index, size, root, [proof[0], SOME_HASH, *proof[1:]], leaf)
        )
    return out


@pytest.mark.parametrize("vector", V["inclusion_proofs"], ids=lambda v: f"{v['leaf']}-{v['size']}")
def test_inclusion_vectors_and_their_corruptions(vector: dict[str, Any]) -> None:
    index, size = vector["leaf"] - 1, vector["size"]
    proof = [bytes.fromhex(h) for h in vector["proof"]]
    leaf = merkle.leaf_hash(LEAVES[index])
    root = ROOTS[size]
    assert merkle.inclusion_proof(LEAVES, index, size) == proof
    assert (
        merkle.root_from_inclusion_proof(leaf_hash=leaf, index=index, size=size, proof=proof)
        == root
    )
    assert merkle.verify_inclusion(leaf_hash=leaf, index=index, size=size, proof=proof, root=root)
    for desc, i, n, r, p, lh in _probes_inclusion(index, size, proof, root, leaf):
        ok = i >= 0 and merkle.verify_inclusion(leaf_hash=lh, index=i, size=n, proof=p, root=r)
        assert not ok, desc


def test_single_entry_inclusion() -> None:
    h = merkle.leaf_hash(b"data")
    assert merkle.verify_inclusion(leaf_hash=h, index=0, size=1, proof=[], root=h)
    assert not merkle.verify_inclusion(leaf_hash=b"", index=0, size=1, proof=[], root=h)
    assert not merkle.verify_inclusion(leaf_hash=h, index=0, size=1, proof=[], root=b"")
    for index, size in ((0, 0), (1, 0), (2, 1)):
        assert not merkle.verify_inclusion(
            leaf_hash=SOME_HASH, index=index, size=size, proof=[], root=EMPTY
        )


def _probes_consistency(
    s1: int, s2: int, r1: bytes, r2: bytes, proof: list[bytes]
) -> list[tuple[str, int, int, bytes, bytes, list[bytes]]]:
    """transparency-dev's corruptConsistencyProof, case for case."""
    out = [
        ("size1 - 1", s1 - 1, s2, r1, r2, proof),
        ("size1 + 1", s1 + 1, s2, r1, r2, proof),
        ("size1 ^ 2", s1 ^ 2, s2, r1, r2, proof),
        ("size2 * 2", s1, s2 * 2, r1, r2, proof),
        ("size2 / 2", s1, s2 // 2, r1, r2, proof),
        ("wrong root1", s1, s2, b"WrongRoot", r2, proof),
        ("wrong root2", s1, s2, r1, b"WrongRoot", proof),
        ("swapped roots", s1, s2, r2, r1, proof),
        ("empty proof", s1, s2, r1, r2, []),
        ("trailing garbage", s1, s2, r1, r2, [*proof, b""]),
        ("trailing root1", s1, s2, r1, r2, [*proof, r1]),
        ("trailing root2", s1, s2, r1, r2, [*proof, r2]),
        ("preceding garbage", s1, s2, r1, r2, [b"", *proof]),
        ("preceding root1", s1, s2, r1, r2, [r1, *proof]),
        ("preceding root2", s1, s2, r1, r2, [r2, *proof]),
        ("preceding proof[0]", s1, s2, r1, r2, [proof[0], *proof]),
    ]
    if proof:
        out.append(("truncated proof", s1, s2, r1, r2, proof[:-1]))
    for i in range(len(proof)):
        wrong = list(proof)
        wrong[i] = bytes([wrong[i][0] ^ 16]) + wrong[i][1:]
        out.append((f"modified proof[{i}] bit 4", s1, s2, r1, r2, wrong))
    return out


@pytest.mark.parametrize(
    "vector", V["consistency_proofs"], ids=lambda v: f"{v['size1']}-{v['size2']}"
)
def test_consistency_vectors_and_their_corruptions(vector: dict[str, Any]) -> None:
    s1, s2 = vector["size1"], vector["size2"]
    proof = [bytes.fromhex(h) for h in vector["proof"]]
    r1, r2 = ROOTS[s1], ROOTS[s2]
    assert merkle.consistency_proof(LEAVES, s1, s2) == proof
    assert merkle.verify_consistency(
        old_size=s1, new_size=s2, old_root=r1, new_root=r2, proof=proof
    )
    if not proof:
        return
    for desc, a, b, x, y, p in _probes_consistency(s1, s2, r1, r2, proof):
        ok = a >= 0 and merkle.verify_consistency(
            old_size=a, new_size=b, old_root=x, new_root=y, proof=p
        )
        assert not ok, desc


def test_consistency_edge_cases() -> None:
    named = {"care1": b"don't care 1", "care2": b"don't care 2", "EMPTY": EMPTY}
    proofs: dict[str, list[bytes]] = {"proof1": [], "proof2": [EMPTY]}
    for case in V["consistency_edge_cases"]["cases"]:
        r1, r2 = named[case["root1"]], named[case["root2"]]
        # Our verifier also insists on 32-byte roots; the "don't care" roots are padded to that size
        # so each case tests what it names, not the length check.
        r1, r2 = r1.ljust(32, b"\0"), r2.ljust(32, b"\0")
        ok = merkle.verify_consistency(
            old_size=case["size1"],
            new_size=case["size2"],
            old_root=r1,
            new_root=r2,
            proof=proofs[case["proof"]],
        )
        assert ok is not case["want_err"], case


def _b64(items: list[str]) -> list[bytes]:
    return [base64.b64decode(x) for x in items]


@pytest.mark.parametrize(
    "path",
    sorted((ASSETS / "transparency-dev" / "inclusion-1").glob("*.json")),
    ids=lambda p: p.stem,
)
def test_transparency_dev_inclusion_files(path: Path) -> None:
    v = json.loads(path.read_text(encoding="utf-8"))
    ok = merkle.verify_inclusion(
        leaf_hash=base64.b64decode(v["leafHash"]),
        index=v["leafIdx"],
        size=v["treeSize"],
        proof=_b64(v["proof"]),
        root=base64.b64decode(v["root"]),
    )
    assert ok is not v["wantErr"], v["desc"]


@pytest.mark.parametrize(
    "path",
    sorted((ASSETS / "transparency-dev" / "consistency-1").glob("*.json")),
    ids=lambda p: p.stem,
)
def test_transparency_dev_consistency_files(path: Path) -> None:
    v = json.loads(path.read_text(encoding="utf-8"))
    ok = merkle.verify_consistency(
        old_size=v["size1"],
        new_size=v["size2"],
        old_root=base64.b64decode(v["root1"]),
        new_root=base64.b64decode(v["root2"]),
        proof=_b64(v["proof"]),
    )
    assert ok is not v["wantErr"], v["desc"]


def test_proof_structure_matches_the_data_level_proofs() -> None:
    leaves = [bytes([i]) for i in range(37)]
    hashes = [merkle.leaf_hash(d) for d in leaves]

    def node(n: merkle.Node) -> bytes:
        return merkle.root_from_leaf_hashes(hashes[n.start : n.end])

    for size in range(1, 38):
        for index in range(size):
            groups = merkle.inclusion_nodes(index, size)
            assert [merkle.fold([node(n) for n in g]) for g in groups] == merkle.inclusion_proof(
                leaves, index, size
            )
        for old in range(size + 1):
            groups = merkle.consistency_nodes(old, size)
            assert [merkle.fold([node(n) for n in g]) for g in groups] == merkle.consistency_proof(
                leaves, old, size
            )


def test_bad_arguments_raise() -> None:
    with pytest.raises(ValueError, match="not inside"):
        merkle.inclusion_ranges(3, 3)
    with pytest.raises(ValueError, match="cannot prove"):
        merkle.consistency_ranges(4, 3)
    with pytest.raises(ValueError, match="exceeds"):
        merkle.inclusion_proof([b"a"], 0, 2)
    with pytest.raises(merkle.ProofError, match="fewer"):
        merkle.root_from_inclusion_proof(leaf_hash=EMPTY, index=0, size=2, proof=[])
