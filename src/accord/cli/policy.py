"""``accord check``, ``accord validate`` and the ``accord packs`` group (``list``, ``show``).

Other areas add their own commands to the ``packs`` group: import :data:`packs_app` from this module
in their ``register(app)`` (it is already attached to the root app by the time they run).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from accord.errors import (
    AccordError,
    Diagnostic,
    InputError,
    NotFoundError,
    PackError,
    TransferError,
)

__all__ = ["packs_app", "register"]

#: The ``accord packs`` command group; other CLI modules may add commands to it.
packs_app = typer.Typer(
    name="packs",
    help="Rule packs: list the shipped packs, show one.",
    no_args_is_help=True,
)

# No markup on stdout: citations and rule text may hold brackets; styles come from Text objects.
_out = Console(highlight=False, soft_wrap=True, markup=False)
_err = Console(stderr=True, highlight=False, soft_wrap=True)

_STYLE = {
    "permit": "bold green",
    "permit_with_obligations": "bold yellow",
    "deny": "bold red",
    "indeterminate": "bold magenta",
}
_EFFECT_STYLE = {
    "deny": "red",
    "permit": "green",
    "obligation": "yellow",
    "exemption": "cyan",
    "default": "blue",
    "undecided": "magenta",
}


@contextmanager
def _reported() -> Iterator[None]:
    """Print an :class:`AccordError` here, escaped, and exit with its code.

    Diagnostics carry paths such as ``rules[vendor].when`` that Rich would take for markup tags;
    printing them ourselves keeps them intact.
    """
    try:
        yield
    except AccordError as exc:
        _err.print(f"[bold red]error[/]: {escape(exc.render())}", markup=True)
        raise SystemExit(exc.exit_code) from None


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def _parse_date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InputError(
            f"bad --as-of date {text!r}",
            [
                Diagnostic(
                    "not a date",
                    path="--as-of",
                    expected="YYYY-MM-DD",
                    found=repr(text),
                    hint="e.g. --as-of 2026-11-28",
                )
            ],
        ) from exc


def _load_packs(refs: list[str] | None) -> list[Any]:
    """Packs named by id (shipped) or path; the default shipped packs when none are named."""
    from accord import packs as shipped
    from accord.policy.ast import Pack

    if not refs:
        return list(shipped.defaults())
    loaded: list[Any] = []
    problems: list[Diagnostic] = []
    for ref in refs:
        path = Path(ref)
        try:
            if path.suffix.lower() in (".yaml", ".yml", ".json") or path.exists():
                loaded.append(Pack.from_file(path))
            else:
                loaded.append(shipped.get(ref))
        except (InputError, NotFoundError) as exc:
            problems.extend(exc.diagnostics or [Diagnostic(exc.message, file=ref)])
    if problems:
        raise PackError(f"cannot load the packs: {len(problems)} problem(s)", problems)
    return loaded


# -- check ---------------------------------------------------------------------------------------


def check(
    files: Annotated[
        list[Path], typer.Argument(help="Transfer documents (YAML or JSON).", show_default=False)
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the decision(s) as JSON.")] = False,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", help="Decide as of this day (YYYY-MM-DD); default: the transfer's."
        ),
    ] = None,
    pack: Annotated[
        list[str] | None,
        typer.Option(
            "--pack",
            help=(
                "A pack id or pack file (repeatable); default: every shipped regulation "
                "(an agreement applies when named)."
            ),
        ),
    ] = None,
) -> None:
    """Decide transfer documents against rule packs.

    Exit status: 0 permit (with or without obligations), 3 deny, 4 indeterminate (the strictest over
    all documents), 2 bad input.
    """
    with _reported():
        from accord.policy.compile import compile_packs
        from accord.policy.decision import strictest
        from accord.policy.transfer import load_transfers

        on = _parse_date(as_of)
        transfers = []
        problems: list[Diagnostic] = []
        for f in files:
            try:
                transfers.extend(load_transfers(f))
            except TransferError as exc:
                problems.extend(exc.diagnostics)
        if problems:
            n = len(problems)
            raise TransferError(
                f"invalid transfer document: {n} problem{'s' if n != 1 else ''}", problems
            )
        engine = compile_packs(_load_packs(pack))
        decisions = [engine.decide(t, as_of=on) for t in transfers]
        if as_json:
            data = [d.to_dict() for d in decisions]
            _print_json(data[0] if len(data) == 1 else data)
        else:
            for d in decisions:
                _show_decision(d)
        worst = strictest([d.outcome for d in decisions])
        if worst.exit_code:
            # SystemExit, not typer.Exit: click swallows Exit codes when not in standalone mode.
            raise SystemExit(worst.exit_code)


def _show_decision(d: Any) -> None:
    outcome = str(d.outcome)
    head = Text.assemble(
        (f"{d.transfer_id}", "bold"),
        "  ",
        (outcome.replace("_", " ").upper(), _STYLE.get(outcome, "bold")),
        f"  (as of {d.as_of.isoformat()})",
    )
    _out.print(Panel(head, expand=False))
    if d.obligations:
        t = Table(title="Obligations", title_justify="left", show_lines=False)
        for col in ("id", "deadline", "citation", "what"):
            t.add_column(col, overflow="fold")
        for o in d.obligations:
            t.add_row(o.id, o.deadline or "—", o.citation or "—", o.text)
        _out.print(t)
    if d.reasons:
        _out.print(Text("Reasons", style="bold"))
        for r in d.reasons:
            style = _EFFECT_STYLE.get(str(r.effect), "bold")
            _out.print(Text.assemble("  ", (f"{r.effect:<10}", style), " ", r.sentence))
    if d.missing:
        _out.print(
            Text.assemble(
                ("Missing facts", "bold magenta"),
                " (add them to the document to decide): ",
                ", ".join(d.missing),
            )
        )
    if d.recognitions:
        for rec in d.recognitions:
            _out.print(
                f"Recognition relied on: {rec.held} counts as {rec.satisfied} "
                f"under {rec.regime} ({rec.citation})"
            )
    skipped = [p for p in d.packs if not p.applied]
    if skipped:
        t = Table(title="Packs not applied", title_justify="left")
        t.add_column("pack")
        t.add_column("why", overflow="fold")
        for p in skipped:
            t.add_row(f"{p.id} {p.version}", p.why)
        _out.print(t)
    for e in d.errors:
        _out.print(
            Text.assemble(
                ("rule error", "bold red"),
                f" {e.pack}/{e.rule}: {e.message} (ignored: fail closed)",
            )
        )
    _out.print()


# -- validate ------------------------------------------------------------------------------------


def validate(
    packs: Annotated[
        list[Path], typer.Argument(help="Rule pack files to check.", show_default=False)
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the reports as JSON.")] = False,
) -> None:
    """Check rule pack files: every error and warning, located. Exit 2 if any has errors."""
    with _reported():
        from accord.policy.validate import validate_file

        reports = []
        for path in packs:
            reports.append((path, validate_file(path)))
        errors = [d for _, r in reports for d in r.errors]
        if as_json:
            _print_json(
                [
                    {
                        "file": str(path),
                        "pack": r.pack.meta.id if r.pack is not None else None,
                        "ok": r.ok,
                        "errors": [d.to_dict() for d in r.errors],
                        "warnings": [d.to_dict() for d in r.warnings],
                    }
                    for path, r in reports
                ]
            )
            if errors:
                raise SystemExit(2)
            return
        for path, r in reports:
            for w in r.warnings:
                _err.print(f"[yellow]warning[/]: {escape(w.render())}", markup=True)
            if r.ok and r.pack is not None:
                n = len(r.pack.rules)
                _out.print(f"{path}: ok ({r.pack.meta.id} {r.pack.meta.version}, {n} rules)")
        if errors:
            n = len(errors)
            raise PackError(f"invalid rule pack: {n} problem{'s' if n != 1 else ''}", errors)


# -- packs list / show ---------------------------------------------------------------------------


@packs_app.command("list")
def packs_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the shipped rule packs."""
    with _reported():
        from accord import packs as shipped

        items = shipped.shipped()
        if as_json:
            _print_json(
                [
                    {
                        "id": p.meta.id,
                        "title": p.meta.title,
                        "kind": str(p.meta.kind),
                        "jurisdiction": p.meta.jurisdiction,
                        "version": p.meta.version,
                        "effective_from": p.meta.effective_from.isoformat(),
                        "sunset": p.meta.sunset.isoformat() if p.meta.sunset else None,
                        "confidence": str(p.meta.confidence),
                        "rules": len(p.rules),
                    }
                    for p in items
                ]
            )
            return
        t = Table(title="Shipped rule packs")
        for col in (
            "id",
            "title",
            "kind",
            "jurisdiction",
            "version",
            "in force",
            "rules",
            "confidence",
        ):
            t.add_column(col, overflow="fold")
        for p in items:
            m = p.meta
            window = (
                m.effective_from.isoformat() + " → " + (m.sunset.isoformat() if m.sunset else "")
            )
            t.add_row(
                m.id,
                m.title,
                str(m.kind),
                m.jurisdiction,
                m.version,
                window,
                str(len(p.rules)),
                str(m.confidence),
            )
        _out.print(t)


@packs_app.command("show")
def packs_show(
    pack_id: Annotated[str, typer.Argument(help="A shipped pack id, or a pack file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the pack as JSON.")] = False,
) -> None:
    """Show a rule pack: metadata, thresholds, and every rule with its citation and dates."""
    with _reported():
        from accord.policy.printer import constraint_to_data, pack_to_data

        (p,) = _load_packs([pack_id])
        if as_json:
            _print_json(pack_to_data(p, json_ready=True))
            return
        m = p.meta
        lines = [
            f"{m.title} ({m.id} {m.version}, {m.kind}, {m.jurisdiction})",
            f"instrument: {m.instrument or '—'}",
            f"in force: {m.effective_from.isoformat()} → "
            f"{m.sunset.isoformat() if m.sunset else 'open'}; "
            f"review every {m.review_interval or '—'}; confidence: {m.confidence}",
            f"default: {m.default}" + (f" ({m.default_citation})" if m.default_citation else ""),
            "sources: " + ", ".join(m.sources),
        ]
        if m.scope is not None:
            lines.append("scope: " + json.dumps(constraint_to_data(m.scope, json_ready=True)))
        _out.print(Panel(Text("\n".join(lines)), expand=False), soft_wrap=False)
        if p.thresholds:
            t = Table(title="Thresholds", title_justify="left")
            for col in ("name", "condition", "citation"):
                t.add_column(col, overflow="fold")
            for th in p.thresholds:
                cond = json.dumps(constraint_to_data(th.constraint, json_ready=True))
                t.add_row(th.name, cond, th.citation or "—")
            _out.print(t)
        t = Table(title="Rules", title_justify="left")
        for col in ("id", "kind", "citation", "in force", "confidence", "text"):
            t.add_column(col, overflow="fold")
        for r in p.rules:
            start = r.effective_from.isoformat() if r.effective_from else ""
            end = r.sunset.isoformat() if r.sunset else ""
            t.add_row(
                r.id,
                str(r.kind),
                r.citation or "—",
                f"{start} → {end}" if start or end else "pack window",
                str(r.confidence or m.confidence),
                r.text,
            )
        _out.print(t)


def register(app: typer.Typer) -> None:
    """Add ``check``, ``validate`` and the ``packs`` group to the root app."""
    app.command("check")(check)
    app.command("validate")(validate)
    app.add_typer(packs_app, name="packs")
