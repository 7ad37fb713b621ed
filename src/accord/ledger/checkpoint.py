"""Signed checkpoints: C2SP ``tlog-checkpoint`` bodies in C2SP ``signed-note`` envelopes (Ed25519).

A checkpoint body is three lines, each ending in ``\\n``: the log's origin, the tree size in decimal
and the base64 root hash (optional extension lines may follow). A signed note is the body, a blank
line, and one line per signature: ``— <key name> <base64(4-byte key id ‖ Ed25519 signature)>``.

Keys use the signed-note text forms:

* verifier: ``<name>+<hex key id>+<base64(0x01 ‖ 32-byte public key)>``
* signer:   ``PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 ‖ 32-byte seed)>``

where the key id is SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4].
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from accord.errors import Diagnostic, InputError, IntegrityError

ALG_ED25519 = 0x01
_DASH = "\u2014"  # em dash, as signed-note specifies
_MAX_SIGNATURES = 100


def _bad(what: str, found: str, *, expected: str, hint: str | None = None) -> InputError:
    return InputError(what, [Diagnostic(what, expected=expected, found=found, hint=hint)])


def _b64decode(text: str, what: str) -> bytes:
    """Strict base64: only the canonical encoding of the bytes is accepted (no malleable bits)."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _bad(f"{what} is not base64", text, expected="standard base64 with padding") from exc
    if base64.b64encode(raw).decode() != text:
        raise _bad(f"{what} is not canonical base64", text, expected="canonical base64")
    return raw


def _valid_name(name: str) -> bool:
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


def key_id(name: str, public_key: bytes) -> bytes:
    """The 4-byte signed-note key id of an Ed25519 key: SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public_key).digest()[:4]


@dataclass(frozen=True, slots=True)
class Verifier:
    """A named Ed25519 public key that checks signed-note signatures."""

    name: str
    public_key: bytes

    @property
    def key_id(self) -> bytes:
        """The 4-byte key id."""
        return key_id(self.name, self.public_key)

    @classmethod
    def from_text(cls, text: str) -> Verifier:
        """Parse ``name+hexid+base64(0x01‖key)``; the id must match the name and key."""
        parts = text.strip().split("+", 2)
        if len(parts) != 3 or not _valid_name(parts[0]):
            raise _bad("malformed verifier key", text, expected="name+hexkeyid+base64key")
        name, hex_id, b64 = parts
        raw = _b64decode(b64, "the verifier key")
        if len(raw) != 33 or raw[0] != ALG_ED25519:
            raise _bad(
                "unsupported verifier key",
                f"{len(raw)} bytes, algorithm {raw[:1].hex() or 'none'}",
                expected="33 bytes: 0x01 then a 32-byte Ed25519 public key",
            )
        verifier = cls(name, raw[1:])
        if hex_id.lower() != verifier.key_id.hex() or len(hex_id) != 8:
            raise _bad(
                "the verifier key id does not match its name and key",
                hex_id,
                expected=verifier.key_id.hex(),
            )
        return verifier

    def to_text(self) -> str:
        """``name+hexid+base64(0x01‖key)``."""
        b64 = base64.b64encode(bytes([ALG_ED25519]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{b64}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        """True iff ``signature`` is this key's Ed25519 signature of ``message``."""
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass(frozen=True, slots=True)
class Signer:
    """A named Ed25519 private key that signs notes."""

    name: str
    seed: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not _valid_name(self.name):
            raise _bad(
                "bad key name",
                repr(self.name),
                expected="a non-empty name without '+' or spaces",
                hint="use the log origin, e.g. accord.example/log",
            )
        if len(self.seed) != 32:
            raise _bad("bad Ed25519 seed", f"{len(self.seed)} bytes", expected="32 bytes")

    @classmethod
    def generate(cls, name: str) -> Signer:
        """A fresh random key pair."""
        from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

        key = Ed25519PrivateKey.generate()
        seed = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return cls(name, seed)

    @classmethod
    def from_text(cls, text: str) -> Signer:
        """Parse ``PRIVATE+KEY+name+hexid+base64(0x01‖seed)``."""
        parts = text.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise _bad(
                "malformed signer key",
                "(hidden)",
                expected="PRIVATE+KEY+name+hexkeyid+base64key",
                hint="create one with `accord keys init`",
            )
        _, _, name, hex_id, b64 = parts
        raw = _b64decode(b64, "the signer key")
        if len(raw) != 33 or raw[0] != ALG_ED25519:
            raise _bad(
                "unsupported signer key",
                f"{len(raw)} bytes",
                expected="33 bytes: 0x01 then a 32-byte Ed25519 seed",
            )
        signer = cls(name, raw[1:])
        if hex_id.lower() != signer.verifier().key_id.hex():
            raise _bad("the signer key id does not match its name and key", hex_id, expected="…")
        return signer

    def to_text(self) -> str:
        """``PRIVATE+KEY+name+hexid+base64(0x01‖seed)`` — keep it secret."""
        b64 = base64.b64encode(bytes([ALG_ED25519]) + self.seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.verifier().key_id.hex()}+{b64}"

    def verifier(self) -> Verifier:
        """The matching public verifier."""
        return _verifier(self.name, self.seed)

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``message``."""
        return _private_key(self.seed).sign(message)


@functools.lru_cache(maxsize=8)
def _private_key(seed: bytes) -> Ed25519PrivateKey:
    # Loading a key costs as much as a signature: a log signs with the same key all day.
    return Ed25519PrivateKey.from_private_bytes(seed)


@functools.lru_cache(maxsize=8)
def _verifier(name: str, seed: bytes) -> Verifier:
    public = _private_key(seed).public_key()
    return Verifier(name, public.public_bytes(Encoding.Raw, PublicFormat.Raw))


@dataclass(frozen=True, slots=True)
class Signature:
    """One signature line of a note."""

    name: str
    key_id: bytes
    signature: bytes


@dataclass(frozen=True, slots=True)
class Note:
    """A parsed signed note: its text and signature lines (not yet verified)."""

    text: str
    signatures: tuple[Signature, ...]

    @classmethod
    def from_text(cls, note: str) -> Note:
        """Split a signed note into its text and its signature lines."""
        if not note.endswith("\n") or any(c < " " and c != "\n" for c in note):
            raise _bad(
                "malformed note",
                repr(note[-20:]),
                expected="text lines ending in \\n, without control characters",
            )
        cut = note.rfind("\n\n")
        if cut < 0:
            raise _bad("malformed note", "no blank line", expected="text, blank line, signatures")
        text, sigs = note[: cut + 1], note[cut + 2 :]
        signatures: list[Signature] = []
        for line in sigs.splitlines():
            prefix = f"{_DASH} "
            fields = line[len(prefix) :].split(" ") if line.startswith(prefix) else []
            if len(fields) != 2 or not _valid_name(fields[0]):
                raise _bad("malformed signature line", line, expected=f"{_DASH} <name> <base64>")
            raw = _b64decode(fields[1], "a signature")
            if len(raw) < 5:
                raise _bad("malformed signature", fields[1], expected="key id and signature")
            signatures.append(Signature(fields[0], raw[:4], raw[4:]))
        if len(signatures) > _MAX_SIGNATURES:
            raise _bad("malformed note", f"{len(signatures)} signatures", expected="at most 100")
        if not signatures:
            raise _bad("unsigned note", "no signature lines", expected="at least one signature")
        return cls(text, tuple(signatures))

    def to_text(self) -> str:
        """The note in its text form."""
        lines = [
            f"{_DASH} {s.name} {base64.b64encode(s.key_id + s.signature).decode()}\n"
            for s in self.signatures
        ]
        return self.text + "\n" + "".join(lines)

    def verified_by(self, verifiers: Iterable[Verifier]) -> list[Verifier]:
        """The known verifiers whose signatures are on this note and valid.

        Raises :class:`IntegrityError` if a signature by a known key (same name and key id) is
        invalid, or if no known key signed the note.
        """
        known = {(v.name, v.key_id): v for v in verifiers}
        good: list[Verifier] = []
        for sig in self.signatures:
            v = known.get((sig.name, sig.key_id))
            if v is None:
                continue
            if not v.verify(self.text.encode(), sig.signature):
                raise IntegrityError(
                    "invalid note signature",
                    [Diagnostic(f"the signature by {sig.name} does not verify")],
                )
            good.append(v)
        if not good:
            names = ", ".join(f"{s.name}+{s.key_id.hex()}" for s in self.signatures)
            raise IntegrityError(
                "the note is not signed by a known key",
                [
                    Diagnostic(
                        "no signature from the given verifier key",
                        expected=", ".join(f"{n}+{i.hex()}" for n, i in known) or "a verifier key",
                        found=names,
                    )
                ],
            )
        return good


def sign_note(text: str, signers: Sequence[Signer]) -> str:
    """Sign ``text`` (non-empty, ending in ``\\n``) with each signer; return the note."""
    if not text.endswith("\n") or "\n\n" in text or "\r" in text:
        raise _bad("cannot sign this text", repr(text[-20:]), expected="lines ending in \\n")
    sigs = tuple(Signature(s.name, s.verifier().key_id, s.sign(text.encode())) for s in signers)
    return Note(text, sigs).to_text()


def open_note(note: str, verifiers: Iterable[Verifier]) -> str:
    """Verify a signed note against known keys; return its text. Raises on any failure."""
    parsed = Note.from_text(note)
    parsed.verified_by(verifiers)
    return parsed.text


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A C2SP tlog-checkpoint body: origin, tree size, root hash, extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    @classmethod
    def from_text(cls, text: str) -> Checkpoint:
        """Parse a checkpoint body (the text of a signed note)."""
        if not text.endswith("\n"):
            raise _bad("malformed checkpoint", repr(text[-20:]), expected="lines ending in \\n")
        lines = text[:-1].split("\n")
        if len(lines) < 3 or not lines[0]:
            raise _bad("malformed checkpoint", f"{len(lines)} lines", expected="origin, size, root")
        origin, size_text, root_text, *ext = lines
        if not size_text.isdigit() or (size_text.startswith("0") and size_text != "0"):
            raise _bad("malformed checkpoint size", size_text, expected="a decimal number")
        root = _b64decode(root_text, "the checkpoint root")
        if len(root) != 32:
            raise _bad("malformed checkpoint root", f"{len(root)} bytes", expected="32 bytes")
        if any(not e for e in ext):
            raise _bad("malformed checkpoint", "an empty extension line", expected="no blank line")
        return cls(origin, int(size_text), root, tuple(ext))

    def to_text(self) -> str:
        """The checkpoint body."""
        lines = [
            self.origin,
            str(self.size),
            base64.b64encode(self.root).decode(),
            *self.extensions,
        ]
        return "".join(f"{line}\n" for line in lines)

    def sign(self, signer: Signer) -> str:
        """This checkpoint as a note signed by ``signer``."""
        return sign_note(self.to_text(), [signer])

    @classmethod
    def from_note(
        cls, note: str, verifiers: Iterable[Verifier], *, origin: str | None = None
    ) -> Checkpoint:
        """Verify a signed checkpoint (and its origin, if given) and parse it."""
        checkpoint = cls.from_text(open_note(note, verifiers))
        if origin is not None and checkpoint.origin != origin:
            raise IntegrityError(
                "checkpoint from another log",
                [Diagnostic("wrong origin", expected=origin, found=checkpoint.origin)],
            )
        return checkpoint
