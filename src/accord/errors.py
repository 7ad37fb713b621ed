"""Errors raised by Accord.

A denied transfer is a *result*, never an exception. Exceptions are for bad input, invalid packs,
storage failures and integrity failures. There is one root and a few meaningful subclasses::

    AccordError                code="accord"     exit 1
    ├── InputError             code="input"      exit 2  bad file, document or argument
    │   ├── PackError          code="pack"       exit 2  a rule pack does not parse or validate
    │   └── TransferError      code="transfer"   exit 2  a transfer document is invalid
    ├── NotFoundError          code="not-found"  exit 2
    ├── PermissionDeniedError  code="forbidden"  exit 2  role or tenancy refuses the action
    ├── ConflictError          code="conflict"   exit 2  e.g. an inconsistent checkpoint
    ├── IntegrityError         code="integrity"  exit 5  the ledger or stored data was altered
    └── StorageError           code="storage"    exit 1

Every error carries ``diagnostics``: located, actionable messages (file, line, column or field
path, what was expected, what was found, how to fix). Third-party errors are wrapped with
``raise ... from``.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One located problem: where it is, what was expected, what was found and how to fix it."""

    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    path: str | None = None
    expected: str | None = None
    found: str | None = None
    hint: str | None = None

    def location(self) -> str:
        """``file:line:column`` (or the field path) where the problem is, or ``""``."""
        parts: list[str] = []
        if self.file:
            parts.append(self.file)
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        loc = ":".join(parts)
        if self.path:
            loc = f"{loc} ({self.path})" if loc else self.path
        return loc

    def render(self) -> str:
        """A multi-line human-readable form, as the CLI prints it."""
        loc = self.location()
        lines = [f"{loc}: {self.message}" if loc else self.message]
        if self.expected is not None:
            lines.append(f"  expected: {self.expected}")
        if self.found is not None:
            lines.append(f"  found:    {self.found}")
        if self.hint is not None:
            lines.append(f"  hint:     {self.hint}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, object]:
        """The diagnostic as JSON-ready data, omitting empty fields."""
        data: dict[str, object] = {
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": self.path,
            "expected": self.expected,
            "found": self.found,
            "hint": self.hint,
        }
        return {k: v for k, v in data.items() if v is not None}


@dataclass(eq=False)
class AccordError(Exception):
    """Root of every error Accord raises on purpose."""

    message: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    code: str = "accord"
    exit_code: int = 1

    def __post_init__(self) -> None:
        Exception.__init__(self, self.message)

    def __str__(self) -> str:
        return self.render()

    def render(self) -> str:
        """The message followed by each diagnostic, as printed at the CLI."""
        if not self.diagnostics:
            return self.message
        body = "\n".join(d.render() for d in self.diagnostics)
        return f"{self.message}\n{body}"


@dataclass(eq=False)
class InputError(AccordError):
    """Bad input: a file, document or argument that cannot be used as given."""

    code: str = "input"
    exit_code: int = 2


@dataclass(eq=False)
class PackError(InputError):
    """A rule pack that does not parse or does not validate."""

    code: str = "pack"


@dataclass(eq=False)
class TransferError(InputError):
    """A transfer document that does not parse or does not validate."""

    code: str = "transfer"


@dataclass(eq=False)
class NotFoundError(AccordError):
    """A named thing (pack, rule, entry, user …) does not exist."""

    code: str = "not-found"
    exit_code: int = 2


@dataclass(eq=False)
class PermissionDeniedError(AccordError):
    """The caller's role or organisation does not allow the action."""

    code: str = "forbidden"
    exit_code: int = 2


@dataclass(eq=False)
class ConflictError(AccordError):
    """The action conflicts with stored state (e.g. signing an inconsistent checkpoint)."""

    code: str = "conflict"
    exit_code: int = 2


@dataclass(eq=False)
class IntegrityError(AccordError):
    """Stored data failed an integrity check: the log or a row was altered behind Accord's back."""

    code: str = "integrity"
    exit_code: int = 5


@dataclass(eq=False)
class StorageError(AccordError):
    """The database could not be read or written."""

    code: str = "storage"
    exit_code: int = 1
