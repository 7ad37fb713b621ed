"""YAML/JSON → a located tree: plain values that remember where each node starts.

PyYAML's ``compose`` keeps a mark on every node; we convert the node graph into :class:`LMap`,
:class:`LSeq` and :class:`LScalar` so later stages can report ``file:line:column`` for any value,
including for a pydantic error ``loc`` (see :func:`locate`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import yaml

from accord.errors import Diagnostic
from accord.policy.ast import Location

try:
    _Base: type[yaml.CSafeLoader | yaml.SafeLoader] = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing
    _Base = yaml.SafeLoader

_BOOL_TAG = "tag:yaml.org,2002:bool"
_BOOL_12 = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")


class _Loader(_Base):  # type: ignore[valid-type,misc]
    """Safe loading with YAML 1.2 booleans: ``NO`` (Norway), ``yes`` and ``on`` stay strings."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL_TAG]
    for first, resolvers in _Base.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(_BOOL_TAG, _BOOL_12, list("tTfF"))


@dataclass(slots=True)
class LScalar:
    """A scalar value (str, int, float, bool, date, datetime or None)."""

    value: Any
    loc: Location


@dataclass(slots=True)
class LSeq:
    """A sequence of located nodes."""

    items: list[LNode]
    loc: Location


@dataclass(slots=True)
class LMap:
    """A mapping with string keys (their own locations kept in ``key_locs``)."""

    items: dict[str, LNode]
    loc: Location
    key_locs: dict[str, Location] = field(default_factory=dict)

    def __iter__(self) -> Iterator[str]:
        return iter(self.items)


LNode: TypeAlias = LScalar | LSeq | LMap


class LocatedError(Exception):
    """The text is not well-formed YAML/JSON; carries located diagnostics."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__(diagnostics[0].message if diagnostics else "malformed document")
        self.diagnostics = diagnostics


def _location(mark: Any, source: str | None) -> Location:
    return Location(source, int(mark.line) + 1, int(mark.column) + 1)


class _Converter:
    def __init__(self, source: str | None) -> None:
        self.source = source
        self.ctor = yaml.constructor.SafeConstructor()
        self.errors: list[Diagnostic] = []

    def convert(self, node: yaml.Node) -> LNode:
        loc = _location(node.start_mark, self.source)
        if isinstance(node, yaml.ScalarNode):
            try:
                value = self.ctor.construct_object(node, deep=True)
            except (yaml.YAMLError, ValueError, TypeError, OverflowError):
                # e.g. 2025-13-45 resolves as a timestamp but is no date: keep the text, and
                # let the reader that expects a date report it with this location.
                value = node.value
            return LScalar(value, loc)
        if isinstance(node, yaml.SequenceNode):
            return LSeq([self.convert(child) for child in node.value], loc)
        if isinstance(node, yaml.MappingNode):
            out = LMap({}, loc)
            self.ctor.flatten_mapping(node)
            for key_node, value_node in node.value:
                key_loc = _location(key_node.start_mark, self.source)
                key = self.convert(key_node)
                if not isinstance(key, LScalar) or isinstance(key.value, (list, dict)):
                    self.errors.append(
                        key_loc.diagnostic(
                            "mapping keys must be plain strings", found="a collection"
                        )
                    )
                    continue
                name = key.value if isinstance(key.value, str) else _scalar_text(key.value)
                if name in out.items:
                    first = out.key_locs[name]
                    self.errors.append(
                        key_loc.diagnostic(
                            f"duplicate key {name!r}",
                            found=f"{name!r} again (first at line {first.line})",
                            expected="each key once per mapping",
                            hint="remove or merge one of the two entries",
                        )
                    )
                    continue
                out.items[name] = self.convert(value_node)
                out.key_locs[name] = key_loc
            return out
        raise TypeError(f"unexpected YAML node {node!r}")  # pragma: no cover


def _scalar_text(value: object) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    return str(value)


def load_documents(text: str, source: str | None = None) -> list[LNode]:
    """Every document in ``text`` (a YAML stream, or one JSON document) as located trees."""
    if (source or "").lower().endswith(".json"):
        # YAML would accept some broken JSON (``{"a": }``): hold .json files to JSON's grammar.
        json_diag = _json_diagnostic(text, source)
        if json_diag is not None:
            raise LocatedError([json_diag])
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = _location(mark, source) if mark is not None else Location(source, 1, 1)
        problem = exc.problem or "malformed YAML"
        if _looks_like_json(text, source):
            json_diag = _json_diagnostic(text, source)
            if json_diag is not None:
                raise LocatedError([json_diag]) from exc
        raise LocatedError(
            [
                loc.diagnostic(
                    f"malformed YAML: {problem}",
                    expected="well-formed YAML or JSON",
                    found=(exc.context or problem),
                    hint="check indentation, colons and quoting near this position",
                )
            ]
        ) from exc
    except yaml.YAMLError as exc:
        raise LocatedError(
            [Diagnostic(f"malformed YAML: {exc}", file=source, expected="well-formed YAML")]
        ) from exc
    conv = _Converter(source)
    docs = [conv.convert(n) for n in nodes if n is not None]
    if conv.errors:
        raise LocatedError(conv.errors)
    return docs


def _looks_like_json(text: str, source: str | None) -> bool:
    return (source or "").lower().endswith(".json") or text.lstrip()[:1] in ("{", "[")


def _json_diagnostic(text: str, source: str | None) -> Diagnostic | None:
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return Diagnostic(
            f"malformed JSON: {exc.msg}",
            file=source,
            line=exc.lineno,
            column=exc.colno,
            expected="well-formed JSON",
            found=text[exc.pos : exc.pos + 20].splitlines()[0]
            if text[exc.pos :]
            else "end of file",
            hint="check commas, quotes and brackets near this position",
        )
    return None


def plain(node: LNode) -> Any:
    """The node as plain Python data (dicts, lists, scalars)."""
    if isinstance(node, LScalar):
        return node.value
    if isinstance(node, LSeq):
        return [plain(n) for n in node.items]
    return {k: plain(v) for k, v in node.items.items()}


def locate_node(node: LNode, path: Sequence[str | int]) -> tuple[LNode, bool]:
    """The node at ``path`` (or the deepest one reached) and whether the whole path was found."""
    current = node
    for part in path:
        nxt: LNode | None = None
        if isinstance(current, LMap) and isinstance(part, str):
            nxt = current.items.get(part)
        elif isinstance(current, LSeq) and isinstance(part, int) and 0 <= part < len(current.items):
            nxt = current.items[part]
        if nxt is None:
            return current, False
        current = nxt
    return current, True


def locate(node: LNode, path: Sequence[str | int]) -> tuple[Location, bool]:
    """The location of ``path`` inside ``node``: the deepest node reached and whether it was exact.

    For a missing key the location of the enclosing mapping is returned with ``exact=False``.
    """
    current = node
    for part in path:
        nxt: LNode | None = None
        if isinstance(current, LMap) and isinstance(part, str):
            nxt = current.items.get(part)
        elif isinstance(current, LSeq) and isinstance(part, int) and 0 <= part < len(current.items):
            nxt = current.items[part]
        if nxt is None:
            return current.loc, False
        current = nxt
    return current.loc, True


def key_location(node: LMap, key: str) -> Location:
    """Where ``key`` is written in ``node`` (the mapping itself if absent)."""
    return node.key_locs.get(key, node.loc)


def describe(node: LNode) -> str:
    """A short description of what a node is, for ``found:`` lines."""
    if isinstance(node, LMap):
        return "a mapping"
    if isinstance(node, LSeq):
        return "a list"
    return describe_value(node.value)


def describe_value(value: object) -> str:
    """``found:`` text for a plain value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {_scalar_text(value)}"
    if isinstance(value, (int, float)):
        return f"number {value}"
    if isinstance(value, str):
        return f"string {value!r}"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"{type(value).__name__} {value}"
