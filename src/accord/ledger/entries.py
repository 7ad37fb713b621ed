"""Log entries: canonical JSON (RFC 8785) envelopes with a schema version.

Every leaf of the log is the RFC 8785 canonical JSON of one envelope::

    {"body": {...}, "schema": "accord.entry/1", "type": "decision"}

so the same entry always hashes to the same leaf, whoever serialises it. :func:`load_entries` reads
entries from JSON (one object or an array), JSON Lines or YAML files.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import rfc8785
import yaml

from accord.errors import Diagnostic, InputError
from accord.ledger.merkle import leaf_hash

SCHEMA = "accord.entry/1"
MAX_ENTRY_BYTES = 0xFFFF  # tlog-tiles entry bundles prefix each entry with a 2-byte length
_TYPE = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")


class EntryType(StrEnum):
    """Well-known entry types; any lower-case name matching ``[a-z][a-z0-9_.-]*`` is allowed."""

    DECISION = "decision"
    EVENT = "event"


@dataclass(frozen=True, slots=True)
class Entry:
    """One log entry: a typed body under a schema version."""

    type: str
    body: Mapping[str, Any]
    schema: str = SCHEMA

    def __post_init__(self) -> None:
        if self.schema != SCHEMA:
            raise InputError(
                "unsupported entry schema",
                [Diagnostic("unknown schema", path="schema", expected=SCHEMA, found=self.schema)],
            )
        if not isinstance(self.type, str) or not _TYPE.match(self.type):
            raise InputError(
                "bad entry type",
                [
                    Diagnostic(
                        "the entry type is not a lower-case name",
                        path="type",
                        expected="a name like 'decision' or 'event'",
                        found=repr(self.type),
                    )
                ],
            )
        if not isinstance(self.body, Mapping):
            raise InputError(
                "bad entry body",
                [
                    Diagnostic(
                        "the body must be an object", path="body", found=type(self.body).__name__
                    )
                ],
            )

    @classmethod
    def from_mapping(cls, data: object, *, where: str = "") -> Entry:
        """An entry from ``{"type": ..., "body": {...}}`` (``schema`` optional, must be current)."""
        if not isinstance(data, Mapping):
            raise InputError(
                "an entry must be an object",
                [Diagnostic("not an object", path=where or None, found=type(data).__name__)],
            )
        extra = sorted(set(data) - {"schema", "type", "body"})
        if extra or "type" not in data or "body" not in data:
            raise InputError(
                "an entry needs exactly 'type' and 'body' (and optionally 'schema')",
                [
                    Diagnostic(
                        "unexpected entry shape",
                        path=where or None,
                        expected="keys schema?, type, body",
                        found=", ".join(sorted(map(str, data))) or "no keys",
                        hint='wrap the data: {"type": "event", "body": {...}}',
                    )
                ],
            )
        return cls(type=data["type"], body=data["body"], schema=data.get("schema", SCHEMA))

    @classmethod
    def from_bytes(cls, data: bytes) -> Entry:
        """Parse a stored leaf; it must be exactly the canonical form of a valid entry."""
        try:
            parsed = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError("the entry is not JSON", [Diagnostic(str(exc))]) from exc
        entry = cls.from_mapping(parsed)
        if entry.to_bytes() != data:
            raise InputError(
                "the entry is not in canonical form",
                [Diagnostic("bytes differ from the RFC 8785 canonical JSON of the same entry")],
            )
        return entry

    def to_dict(self) -> dict[str, Any]:
        """The envelope as plain data."""
        return {"schema": self.schema, "type": self.type, "body": dict(self.body)}

    def to_bytes(self) -> bytes:
        """The RFC 8785 canonical JSON of the envelope: the leaf data."""
        body = self.body if type(self.body) is dict else dict(self.body)
        try:
            data = canonical_json({"body": body, "schema": self.schema, "type": self.type})
        except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
            raise InputError(
                "the entry cannot be written as canonical JSON",
                [Diagnostic(str(exc), path="body", hint="use strings, integers, booleans, null")],
            ) from exc
        if len(data) > MAX_ENTRY_BYTES:
            raise InputError(
                "the entry is too large",
                [
                    Diagnostic(
                        "canonical entry exceeds the tile format's limit",
                        expected=f"at most {MAX_ENTRY_BYTES} bytes",
                        found=f"{len(data)} bytes",
                    )
                ],
            )
        return data

    def leaf_hash(self) -> bytes:
        """SHA-256(0x00 ‖ canonical bytes)."""
        return leaf_hash(self.to_bytes())


_MAX_SAFE_INT = 2**53 - 1
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _native_canonical() -> Callable[[object], bytes | None] | None:
    """The C extension's ``canonical``, unless it is not built or ``ACCORD_PURE_PYTHON`` is set."""
    if os.environ.get("ACCORD_PURE_PYTHON", "").strip() not in ("", "0"):
        return None
    try:
        from accord.ledger._canon import canonical
    except ImportError:  # not built: no C compiler or Python headers where installed
        return None
    return canonical


_NATIVE = _native_canonical()


def _plain(value: Any) -> bool:
    """True if ``json.dumps`` gives RFC 8785 bytes for ``value``.

    That holds for dicts, lists, strings, booleans, null and I-JSON integers when no object key
    has a character above U+D7FF (there UTF-16 order, which RFC 8785 sorts by, can differ from
    code point order). Floats take the full RFC 8785 path (ECMAScript number formatting).
    """
    stack = [value]
    pop, push, extend = stack.pop, stack.append, stack.extend
    while stack:
        v = pop()
        t = type(v)
        if t is str or v is None or t is bool:
            continue
        if t is dict:
            for k, x in v.items():
                if type(k) is not str or (not k.isascii() and max(k) >= "\ud800"):
                    return False
                push(x)
        elif t is list:
            extend(v)
        elif t is int:
            if not -_MAX_SAFE_INT <= v <= _MAX_SAFE_INT:
                return False
        else:
            return False
    return True


def canonical_json(value: Any) -> bytes:
    """RFC 8785 canonical JSON of ``value``.

    Plain data (exact dicts with str keys, lists, strings, I-JSON integers, booleans, null) is
    written by the C extension :mod:`accord.ledger._canon` where it is built; anything it declines
    (floats, other types, lone surrogates) or, without it, everything takes the Python paths: the
    ``json`` encoder for float-free data, else the ``rfc8785`` library. All give the same bytes.
    A value nested deeper than the recursion limit raises :class:`RecursionError`.
    """
    if _NATIVE is not None:
        native = _NATIVE(value)
        if native is not None:
            return native
    if _plain(value):
        try:
            return _ENCODER.encode(value).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: let rfc8785 decide
            pass
    data: bytes = rfc8785.dumps(value)
    return data


def _json_safe(value: Any) -> Any:
    """YAML gives dates and other scalars JSON lacks; keep JSON types, stringify the rest."""
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _entries_from(items: list[Any], file: str, lines: list[int] | None) -> list[Entry]:
    out: list[Entry] = []
    for i, item in enumerate(items):
        line = lines[i] if lines else None
        try:
            entry = Entry.from_mapping(_json_safe(item), where=f"#{i}")
            entry.to_bytes()
        except InputError as exc:
            diags = [
                Diagnostic(
                    d.message,
                    file=file,
                    line=line,
                    path=f"#{i}" + (f".{d.path}" if d.path and not d.path.startswith("#") else ""),
                    expected=d.expected,
                    found=d.found,
                    hint=d.hint,
                )
                for d in exc.diagnostics
            ]
            raise InputError(exc.message, diags) from exc
        out.append(entry)
    return out


def parse_entries(text: str, *, file: str = "<input>") -> list[Entry]:
    """Entries from JSON (an object or an array), JSON Lines, or YAML (a mapping or a list)."""
    stripped = text.lstrip()
    suffix = Path(file).suffix.lower()
    if suffix in (".yaml", ".yml") or (stripped and stripped[0] not in "[{"):
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            raise InputError(
                "the entries file is not valid YAML",
                [
                    Diagnostic(
                        str(getattr(exc, "problem", None) or exc),
                        file=file,
                        line=mark.line + 1 if mark else None,
                        column=mark.column + 1 if mark else None,
                    )
                ],
            ) from exc
        items = [] if data is None else data if isinstance(data, list) else [data]
        return _entries_from(items, file, None)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as whole:
        # JSON Lines: one object per non-blank line.
        rows: list[Any] = []
        lines: list[int] = []
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                err = exc if n > 1 or len(text.splitlines()) > 1 else whole
                raise InputError(
                    "the entries file is neither JSON nor JSON Lines",
                    [Diagnostic(err.msg, file=file, line=n, column=err.colno)],
                ) from exc
            lines.append(n)
        return _entries_from(rows, file, lines)
    items = data if isinstance(data, list) else [data]
    return _entries_from(items, file, None)


def load_entries(path: str | Path) -> list[Entry]:
    """Read entries from a JSON, JSON Lines or YAML file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            "cannot read the entries file", [Diagnostic(str(exc), file=str(path))]
        ) from exc
    return parse_entries(text, file=str(path))
