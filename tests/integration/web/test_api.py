"""The ``/api/v1`` API end to end: decisions with verifiable receipts, listings, packs, the log."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

from accord.cli import main as cli_main
from accord.ledger import merkle
from accord.ledger.bundle import verify_bundle
from accord.ledger.checkpoint import Checkpoint, Verifier
from accord.ledger.entries import Entry
from conftest import TRANSFER, Client, World

PACK = """\
pack:
  id: test-agreement
  title: Test agreement between DE and JP
  kind: agreement
  jurisdiction: DE
  instrument: Test instrument
  version: "1"
  effective_from: 2020-01-01
  parties: [DE, JP]
  confidence: confirmed
  default: permit
  sources: [https://example.org/agreement]
  scope: {fact: exporter.country, op: eq, value: DE}
rules:
  - id: test-deny-genomic
    kind: prohibition
    text: No genomic data to JP.
    citation: Art. 1
    source: https://example.org/agreement#1
    when:
      and:
        - {fact: importer.country, op: eq, value: JP}
        - {fact: data.categories, op: isA, value: human-genomic}
"""


def _decide(client: Client, account: Any, **changes: Any) -> dict[str, Any]:
    transfer = copy.deepcopy(TRANSFER)
    transfer.update(changes)
    response = client.post(
        "/api/v1/decisions", json={"transfer": transfer}, headers=account.headers
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def _verify_receipt(receipt: dict[str, Any], verifier_key: str) -> None:
    """Check a receipt with nothing but the verifier key: signature, inclusion, entry bytes."""
    verifier = Verifier.from_text(verifier_key)
    checkpoint = Checkpoint.from_note(receipt["checkpoint"], [verifier])
    entry = Entry.from_mapping(receipt["entry_json"])
    leaf = merkle.leaf_hash(entry.to_bytes())
    assert base64.b64decode(receipt["leaf_hash"]) == leaf
    assert checkpoint.size == receipt["log_size"]
    assert merkle.verify_inclusion(
        leaf_hash=leaf,
        index=receipt["leaf_index"],
        size=checkpoint.size,
        proof=[base64.b64decode(h) for h in receipt["hashes"]],
        root=checkpoint.root,
    )


def test_decision_is_recorded_with_a_verifiable_receipt(client: Client, world: World) -> None:
    first = _decide(client, world["member_a"])
    second = _decide(client, world["member_a"], id="tx-test-0002")
    assert first["leaf_index"] != second["leaf_index"]
    key = client.get("/api/v1/log/checkpoint").json()["verifier_key"]
    for made in (first, second):
        _verify_receipt(made["receipt"], key)
        assert made["receipt"]["entry_json"]["body"]["decision"] == made["id"]
        assert made["receipt"]["entry_json"]["body"]["digest"] == made["digest"]
        assert made["outcome"] == made["decision"]["outcome"]
    # Reading a decision later gives a receipt against the newest checkpoint.
    again = client.get(f"/api/v1/decisions/{first['id']}", headers=world["member_a"].headers)
    assert again.status_code == 200
    _verify_receipt(again.json()["receipt"], key)
    assert again.json()["receipt"]["log_size"] >= 2


def test_receipt_is_a_bundle_the_cli_verifies_offline(
    client: Client, world: World, tmp_path: Path
) -> None:
    made = _decide(client, world["member_a"])
    key = client.get("/api/v1/log/checkpoint").json()["verifier_key"]
    receipt_file = tmp_path / "receipt.json"
    receipt_file.write_text(json.dumps(made["receipt"]), encoding="utf-8")
    assert cli_main(["log", "verify-bundle", str(receipt_file), "--key", key]) == 0
    bundle = client.get(f"/api/v1/log/bundle/{made['leaf_index']}").json()
    verified = verify_bundle(bundle, Verifier.from_text(key))
    assert verified.leaf_index == made["leaf_index"]
    # A changed entry byte no longer verifies.
    entry = bytearray(base64.b64decode(bundle["entry"]))
    entry[-2] ^= 0x01
    receipt_file.write_text(
        json.dumps({**bundle, "entry": base64.b64encode(bytes(entry)).decode()}), encoding="utf-8"
    )
    assert cli_main(["log", "verify-bundle", str(receipt_file), "--key", key]) == 5


def test_decision_entry_holds_no_transfer_details(client: Client, world: World) -> None:
    made = _decide(client, world["member_a"])
    body = made["receipt"]["entry_json"]["body"]
    assert set(body) == {"decision", "digest", "outcome", "as_of", "packs"}
    text = str(made["receipt"]["entry_json"])
    assert "Exporter" not in text
    assert "Importer" not in text


def test_listing_filters_and_paginates(client: Client, world: World) -> None:
    made = [_decide(client, world["member_a"], id=f"tx-{i}") for i in range(5)]
    headers = world["member_a"].headers
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/api/v1/decisions", params=params, headers=headers).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [m["id"] for m in reversed(made)]
    outcome = made[0]["outcome"]
    filtered = client.get("/api/v1/decisions", params={"outcome": outcome}, headers=headers).json()
    assert filtered["items"]
    assert all(i["outcome"] == outcome for i in filtered["items"])
    none = client.get("/api/v1/decisions", params={"from": "2100-01-01"}, headers=headers).json()
    assert none["items"] == []
    on_day = client.get(
        "/api/v1/decisions", params={"from": "2026-11-28", "to": "2026-11-28"}, headers=headers
    ).json()
    assert len(on_day["items"]) == 5


def test_pack_filter_matches_applied_packs(client: Client, world: World) -> None:
    made = _decide(client, world["member_a"])
    headers = world["regulator"].headers
    for pack in made["packs"]:
        items = client.get("/api/v1/decisions", params={"pack": pack}, headers=headers).json()
        assert made["id"] in {i["id"] for i in items["items"]}
    items = client.get("/api/v1/decisions", params={"pack": "no-such-pack"}, headers=headers).json()
    assert items["items"] == []


def test_pack_upload_versions_and_lifecycle(client: Client, world: World) -> None:
    headers = world["regulator"].headers
    up = client.post("/api/v1/agreements", json={"text": PACK}, headers=headers)
    assert up.status_code == 201, up.text
    assert up.json()["status"] == "draft"
    assert up.json()["uploaded_version"]["number"] == 1
    # A draft is not used in decisions.
    genomic = {"categories": ["human-genomic"], "subjects": {"human-genomic": 10}}
    importer = {"country": "JP", "kind": "company", "role": "processor", "covered_person": False}
    before = _decide(client, world["member_a"], data=genomic, importer=importer)
    assert "test-agreement" not in before["packs"]
    act = client.post("/api/v1/agreements/test-agreement/activate", headers=headers)
    assert act.status_code == 200, act.text
    assert act.json()["status"] == "active"
    after = _decide(client, world["member_a"], data=genomic, importer=importer)
    assert "test-agreement" in after["packs"]
    assert after["outcome"] == "deny"
    # A second upload is version 2; the version in force stays 1 until activated.
    up2 = client.post(
        "/api/v1/packs",
        json={"text": PACK.replace('version: "1"', 'version: "2"')},
        headers=headers,
    )
    assert up2.status_code == 201, up2.text
    assert up2.json()["current_version"] == 1
    assert up2.json()["latest_version"] == 2
    versions = client.get("/api/v1/agreements/test-agreement/versions").json()
    assert [v["number"] for v in versions] == [1, 2]
    assert versions[0]["sha256"] != versions[1]["sha256"]
    act2 = client.post(
        "/api/v1/agreements/test-agreement/activate", json={"version": 2}, headers=headers
    )
    assert act2.json()["current_version"] == 2
    sus = client.post(
        "/api/v1/agreements/test-agreement/suspend", json={"note": "review"}, headers=headers
    )
    assert sus.json()["status"] == "suspended"
    suspended = _decide(client, world["member_a"], data=genomic, importer=importer)
    assert "test-agreement" not in suspended["packs"]
    assert (
        client.post("/api/v1/agreements/test-agreement/expire", headers=headers).json()["status"]
        == "expired"
    )
    again = client.post("/api/v1/agreements/test-agreement/activate", headers=headers)
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    history = client.get(
        "/api/v1/agreements/test-agreement/history", headers=world["auditor"].headers
    ).json()
    assert [h["action"] for h in history] == [
        "create",
        "active",
        "upload",
        "active",
        "suspended",
        "expired",
    ]
    assert {h["actor"] for h in history} == {world["regulator"].email}
    assert history[4]["note"] == "review"
    # The agreement is listed as an agreement, and as a pack.
    assert "test-agreement" in {p["id"] for p in client.get("/api/v1/agreements").json()}
    assert "test-agreement" in {p["id"] for p in client.get("/api/v1/packs").json()}
    regulation = next(p for p in client.get("/api/v1/packs").json() if p["kind"] != "agreement")
    assert client.get(f"/api/v1/agreements/{regulation['id']}").status_code == 404


def test_bad_pack_is_refused_with_locations(client: Client, world: World) -> None:
    bad = PACK.replace("op: isA", "op: isAlmost")
    response = client.post(
        "/api/v1/packs",
        json={"text": bad, "filename": "mine.yaml"},
        headers=world["regulator"].headers,
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    errors = response.json()["errors"]
    assert errors
    located = [e for e in errors if e.get("file") == "mine.yaml" and e.get("line")]
    assert located, errors
    assert any(
        e["line"]
        == bad.splitlines().index(next(ln for ln in bad.splitlines() if "isAlmost" in ln)) + 1
        for e in located
    )
    assert client.get("/api/v1/packs/test-agreement").status_code == 404


def test_log_endpoints_and_tiles(client: Client, world: World) -> None:
    made = [_decide(client, world["member_a"], id=f"tx-{i}") for i in range(3)]
    cp = client.get("/api/v1/log/checkpoint").json()
    assert cp["size"] >= 3
    proof = client.get(
        "/api/v1/log/proof/inclusion", params={"index": made[1]["leaf_index"]}
    ).json()
    assert proof["leaf_index"] == made[1]["leaf_index"]
    root = base64.b64decode(cp["root_hash"])
    assert merkle.verify_inclusion(
        leaf_hash=base64.b64decode(proof["leaf_hash"]),
        index=proof["leaf_index"],
        size=proof["log_size"],
        proof=[base64.b64decode(h) for h in proof["hashes"]],
        root=root,
    )
    cons = client.get("/api/v1/log/proof/consistency", params={"from": 1, "to": cp["size"]})
    assert cons.status_code == 200
    bundle = client.get(f"/api/v1/log/bundle/{made[0]['leaf_index']}").json()
    _verify_receipt(bundle, cp["verifier_key"])
    assert client.get("/api/v1/log/bundle/999999").status_code == 404
    # tlog-tiles: the checkpoint note, a partial level-0 tile and entry bundle.
    note = client.get("/log/checkpoint")
    assert note.status_code == 200
    assert note.text == cp["text"]
    size = cp["size"]
    tile = client.get(f"/log/tile/0/000.p/{size}")
    assert tile.status_code == 200
    assert len(tile.content) == 32 * size
    assert (
        merkle.root_from_leaf_hashes(
            [tile.content[i : i + 32] for i in range(0, len(tile.content), 32)]
        )
        == root
    )
    entries = client.get(f"/log/tile/entries/000.p/{size}")
    assert entries.status_code == 200
    data, leaves = entries.content, []
    while data:
        n = int.from_bytes(data[:2], "big")
        leaves.append(data[2 : 2 + n])
        data = data[2 + n :]
    assert merkle.root_hash(leaves) == root
    assert client.get("/log/tile/0/000").status_code == 404  # not complete yet
    assert client.get("/log/tile/0/abc").status_code == 404


def test_stats_health_metrics(client: Client, world: World) -> None:
    made = _decide(client, world["member_a"])
    stats = client.get("/api/v1/stats").json()
    assert stats["decisions"] == 1
    assert stats["by_outcome"] == {made["outcome"]: 1}
    assert stats["organisations"] == 2
    assert client.get("/healthz").json()["status"] == "ok"
    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    assert 'accord_http_requests_total{method="POST",route="/api/v1/decisions",status="201"} 1' in (
        metrics.text
    )
    assert f'accord_decisions_total{{outcome="{made["outcome"]}"}} 1' in metrics.text
    assert "accord_log_size 1" in metrics.text


def test_openapi_documents_problems(client: Client) -> None:
    spec = client.get("/openapi.json").json()
    assert "Problem" in spec["components"]["schemas"]
    post = spec["paths"]["/api/v1/decisions"]["post"]
    assert {"201", "401", "403", "413", "422"} <= set(post["responses"])
    assert "application/problem+json" in post["responses"]["422"]["content"]
