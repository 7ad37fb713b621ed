"""Offline proof bundles: everything needed is in the bundle and the verifier key."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from accord.errors import InputError, IntegrityError
from accord.ledger.bundle import make_bundle, parse_bundle, verify_bundle
from accord.ledger.checkpoint import Signer
from accord.ledger.entries import Entry
from accord.ledger.store import Ledger

ORIGIN = "accord.test/log"


@pytest.fixture
def bundle(tmp_path: Path) -> tuple[dict[str, object], Signer]:
    signer = Signer.generate(ORIGIN)
    ledger = Ledger.open(tmp_path / "log.db", origin=ORIGIN)
    ledger.append([Entry("decision", {"n": i}) for i in range(13)])
    signed = ledger.sign_checkpoint(signer)
    data = make_bundle(ledger.entry(6), ledger.inclusion_proof(6, 13), signed.note)
    ledger.close()
    return data, signer


def test_round_trip(bundle: tuple[dict[str, object], Signer]) -> None:
    data, signer = bundle
    result = verify_bundle(parse_bundle(json.dumps(data)), signer.verifier(), origin=ORIGIN)
    assert (result.leaf_index, result.checkpoint.size) == (6, 13)
    assert result.entry.body == {"n": 6}


def test_wrong_key_or_origin(bundle: tuple[dict[str, object], Signer]) -> None:
    data, _ = bundle
    with pytest.raises(IntegrityError, match="known key"):
        verify_bundle(data, Signer.generate(ORIGIN).verifier())
    with pytest.raises(IntegrityError, match="another log"):
        verify_bundle(data, bundle[1].verifier(), origin="other/log")


def test_tampered_fields(bundle: tuple[dict[str, object], Signer]) -> None:
    data, signer = bundle
    for field, value in (("leaf_index", 5), ("log_size", 12), ("hashes", [])):
        with pytest.raises(IntegrityError):
            verify_bundle({**data, field: value}, signer.verifier())
    other = Entry("decision", {"n": 7}).to_bytes()
    with pytest.raises(IntegrityError, match="leaf hash"):
        verify_bundle({**data, "entry": base64.b64encode(other).decode()}, signer.verifier())


@pytest.mark.parametrize(
    "text", ["nope", "[]", '{"format": "x"}', '{"format": "accord.bundle/1", "entry": 5}']
)
def test_malformed_bundles(text: str, bundle: tuple[dict[str, object], Signer]) -> None:
    with pytest.raises(InputError):
        verify_bundle(parse_bundle(text), bundle[1].verifier())
