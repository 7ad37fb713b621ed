"""Signed notes and checkpoints against the golang.org/x/mod sumdb/note vectors."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from accord.errors import InputError, IntegrityError
from accord.ledger.checkpoint import (
    Checkpoint,
    Note,
    Signer,
    Verifier,
    key_id,
    open_note,
    sign_note,
)

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "ledger"
V = json.loads((ASSETS / "signed-note.json").read_text(encoding="utf-8"))
PETER = Verifier.from_text(V["peter_verifier"])
ENOCH = Verifier.from_text(V["enoch_verifier"])
TEXT = V["text"]


def test_verifier_and_signer_round_trip() -> None:
    signer = Signer.from_text(V["peter_signer"])
    assert signer.verifier() == PETER
    assert PETER.to_text() == V["peter_verifier"]
    assert signer.to_text() == V["peter_signer"]
    assert PETER.key_id.hex() == "c74f20a3"
    assert key_id("PeterNeumann", PETER.public_key) == bytes.fromhex("c74f20a3")


def test_sign_matches_the_go_signature_byte_for_byte() -> None:
    signer = Signer.from_text(V["peter_signer"])
    assert sign_note(TEXT, [signer]) == TEXT + "\n" + V["peter_sig"]


def test_open_with_one_known_key_ignores_the_unknown_one() -> None:
    note = TEXT + "\n" + V["peter_sig"] + V["enoch_sig"]
    assert open_note(note, [PETER]) == TEXT
    assert Note.from_text(note).verified_by([PETER, ENOCH]) == [PETER, ENOCH]


def test_open_without_a_known_key_fails() -> None:
    with pytest.raises(IntegrityError, match="not signed by a known key"):
        open_note(TEXT + "\n" + V["peter_sig"] + V["enoch_sig"], [])


def test_open_with_an_invalid_signature_fails() -> None:
    sig = V["peter_sig"]
    with pytest.raises((IntegrityError, InputError)):
        open_note(TEXT + "\n" + sig[:60] + "ABCD" + sig[60:], [PETER])


@pytest.mark.parametrize(
    "note",
    [
        TEXT,
        TEXT + "\n",
        TEXT + "\n" + V["peter_sig"][:-1],
        "\x01" + TEXT + "\n" + V["peter_sig"],
        TEXT + "\n" + "\u2014 Bad Name " + V["peter_sig"].split(" ")[-1],
        TEXT + "\n" + V["peter_sig"] + "Unexpected line.\n",
        TEXT + "\n" + V["peter_sig"] * 101,
    ],
    ids=["no-sigs", "blank", "no-final-newline", "control", "bad-name", "extra-line", "101-sigs"],
)
def test_malformed_notes_are_rejected(note: str) -> None:
    with pytest.raises(InputError, match=r"malformed|unsigned"):
        open_note(note, [PETER])


def _manglings(text: str) -> list[str]:
    out = [text[i:j] for i in range(len(text) + 1) for j in range(i + 1, len(text) + 1)]
    out = [s for s in out if s != text]
    for i in range(len(text)):
        out.append(text[:i] + chr(ord(text[i]) + 1) + text[i + 1 :])
    return out


def test_mangled_verifier_keys_are_rejected() -> None:
    bad = [*_manglings(V["peter_verifier"]), *V["bad_verifiers"]]
    accepted = []
    for text in bad:
        try:
            Verifier.from_text(text)
        except InputError:
            continue
        accepted.append(text)
    assert accepted == []


def test_mangled_signer_keys_are_rejected() -> None:
    accepted = []
    for text in _manglings(V["peter_signer"])[::7]:  # every 7th of ~3,000 keeps the test quick
        try:
            Signer.from_text(text)
        except InputError:
            continue
        accepted.append(text)
    assert accepted == []


def test_checkpoint_text_round_trip_and_signature() -> None:
    signer = Signer.generate("example.com/log")
    cp = Checkpoint("example.com/log", 8, bytes(range(32)), ("ext line",))
    text = cp.to_text()
    assert text == (
        "example.com/log\n8\n" + base64.b64encode(bytes(range(32))).decode() + "\next line\n"
    )
    assert Checkpoint.from_text(text) == cp
    note = cp.sign(signer)
    assert Checkpoint.from_note(note, [signer.verifier()], origin="example.com/log") == cp
    with pytest.raises(IntegrityError, match="another log"):
        Checkpoint.from_note(note, [signer.verifier()], origin="other/log")
    other = Signer.generate("example.com/log")
    with pytest.raises(IntegrityError):
        Checkpoint.from_note(note, [other.verifier()])


@pytest.mark.parametrize(
    "text",
    [
        "o\n",
        "o\n01\nAAAA\n",
        "o\nx\n" + "A" * 44 + "\n",
        "o\n1\nAAAA\n",
        "\n1\n" + "A" * 43 + "=\n",
    ],
)
def test_malformed_checkpoints(text: str) -> None:
    with pytest.raises(InputError):
        Checkpoint.from_text(text)


def test_key_names_must_be_plain() -> None:
    with pytest.raises(InputError):
        Signer.generate("bad name")
    with pytest.raises(InputError):
        Signer.generate("a+b")
