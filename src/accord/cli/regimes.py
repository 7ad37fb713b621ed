"""``accord glossary`` and ``accord packs diff``: the rights glossary and pack differences."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from accord.errors import Diagnostic, InputError, NotFoundError

_out = Console(highlight=False, soft_wrap=True)


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False))


def glossary(
    term: Annotated[
        str | None, typer.Argument(help="A right or principle (id, alias or label).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the rights glossary: each right or principle, the safeguards that realise it and the
    rules (from the shipped packs) that enforce it."""
    from accord.vocab import rights

    table = rights.protected_by()
    if term is not None:
        entry = rights.lookup(term)
        enforced = table.get(entry.id, [])
        if as_json:
            _print_json({**entry.to_dict(), "enforced_by": [e.to_dict() for e in enforced]})
            return
        _out.print(f"[bold]{entry.label}[/] ({entry.id}, {entry.kind.value})")
        _out.print(entry.description)
        if entry.dpv:
            _out.print(f"DPV: {entry.dpv}")
        _out.print("\n[bold]Citations[/]")
        for c in entry.citations:
            _out.print(f"  {c.text} — {c.source}")
        _out.print("\n[bold]Realised by safeguards[/]")
        _out.print("  " + (", ".join(entry.safeguards) or "(none listed)"))
        _out.print(f"\n[bold]Enforced by {len(enforced)} rule(s) and duties[/]")
        for e in enforced:
            what = f"{e.pack}/{e.rule}" + (f" duty {e.duty}" if e.duty else "")
            _out.print(f"  {what} ({e.kind}) — {e.citation or 'no citation'}")
        return
    entries = rights.rights()
    if as_json:
        _print_json(
            [
                {**r.to_dict(), "enforced_by": [e.to_dict() for e in table.get(r.id, [])]}
                for r in entries.values()
            ]
        )
        return
    grid = Table(title="Rights and principles", show_lines=False)
    grid.add_column("id", no_wrap=True)
    grid.add_column("kind")
    grid.add_column("label")
    grid.add_column("safeguards", justify="right")
    grid.add_column("enforced by", justify="right")
    for r in entries.values():
        grid.add_row(
            r.id, r.kind.value, r.label, str(len(r.safeguards)), str(len(table.get(r.id, [])))
        )
    _out.print(grid)


def _load_pack(ref: str) -> Any:
    from accord.policy.ast import Pack

    path = Path(ref)
    if path.exists():
        return Pack.from_file(path)
    try:
        from accord import packs as shipped
    except ImportError as exc:  # pragma: no cover - the loader ships with the package
        raise NotFoundError(f"no such pack file: {ref}") from exc
    getter = getattr(shipped, "get", None)
    if getter is not None:
        try:
            return getter(ref)
        except (KeyError, NotFoundError):
            pass
    raise NotFoundError(
        f"no such pack: {ref}",
        [
            Diagnostic(
                "neither a pack file nor a shipped pack id",
                found=ref,
                hint="give a path to a pack YAML file, or an id from `accord packs list`",
            )
        ],
    )


def _change(old: Any, new: Any) -> str:
    """``old → new``; for two lists of plain values, the members added and removed."""
    plain = (str, int, float, bool)
    if (
        isinstance(old, list)
        and isinstance(new, list)
        and all(isinstance(v, plain) for v in [*old, *new])
    ):
        added = [v for v in new if v not in old]
        removed = [v for v in old if v not in new]
        parts = [f"+{_fmt(v)}" for v in added] + [f"-{_fmt(v)}" for v in removed]
        return " ".join(parts) or f"{_fmt(old)} → {_fmt(new)} (reordered)"
    return f"{_fmt(old)} → {_fmt(new)}"


def _show_change(c: Any, indent: str) -> None:
    if c.added or c.removed:
        _out.print(f"{indent}~ {c.field}:")
        for clause in c.added:
            _out.print(f"{indent}    + {clause}")
        for clause in c.removed:
            _out.print(f"{indent}    - {clause}")
        return
    _out.print(f"{indent}~ {c.field}: {_change(c.old, c.new)}")


def _fmt(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return "—" if value is None else str(value)


def diff(
    old: Annotated[str, typer.Argument(help="The old pack: a file, or a shipped pack id.")],
    new: Annotated[str, typer.Argument(help="The new pack: a file, or a shipped pack id.")],
    transfers: Annotated[
        list[Path] | None,
        typer.Option(
            "--transfers",
            help="Transfer documents to decide under both versions (repeatable).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List what changed between two versions of a pack (metadata, groups, thresholds, rules
    field by field) and, with --transfers, which decisions change."""
    from accord.policy.diff import decision_changes, diff_packs
    from accord.policy.transfer import load_transfers

    old_pack, new_pack = _load_pack(old), _load_pack(new)
    result = diff_packs(old_pack, new_pack)
    docs = []
    for path in transfers or []:
        if not path.exists():
            raise InputError(
                f"no such transfer file: {path}",
                [Diagnostic("file not found", file=str(path), hint="check the --transfers path")],
            )
        docs.extend(load_transfers(path))
    changes = decision_changes(old_pack, new_pack, docs) if docs else []
    if as_json:
        _print_json(
            {
                "diff": result.to_dict(),
                "transfers": len(docs),
                "decisions": [c.to_dict() for c in changes],
            }
        )
        return
    _out.print(
        f"[bold]{result.old_id}[/] {result.old_version} → [bold]{result.new_id}[/] "
        f"{result.new_version}"
    )
    if result.empty:
        _out.print("no differences")
    for section, items in (
        ("metadata", result.metadata),
        ("groups", result.groups),
        ("thresholds", result.thresholds),
    ):
        if items:
            _out.print(f"\n[bold]{section}[/]")
            for c in items:
                _show_change(c, "  ")
    if result.added or result.removed or result.changed:
        _out.print("\n[bold]rules[/]")
        for rid in result.added:
            _out.print(f"  + {rid}")
        for rid in result.removed:
            _out.print(f"  - {rid}")
        for rc in result.changed:
            _out.print(f"  ~ {rc.rule}")
            for c in rc.changes:
                _show_change(c, "      ")
    if docs:
        _out.print(f"\n[bold]decisions[/] ({len(changes)} of {len(docs)} transfers change)")
        for ch in changes:
            line = f"  {ch.transfer}: {ch.old_outcome} → {ch.new_outcome}"
            if ch.obligations_added:
                line += f"; + obligations {', '.join(ch.obligations_added)}"
            if ch.obligations_removed:
                line += f"; - obligations {', '.join(ch.obligations_removed)}"
            if ch.old_rules != ch.new_rules:
                before = ", ".join(ch.old_rules) or "(none)"
                line += f"; rules {before} → {', '.join(ch.new_rules) or '(none)'}"
            _out.print(line)


def register(app: typer.Typer) -> None:
    """Add ``accord glossary`` to the root app and ``diff`` to the ``accord packs`` group."""
    app.command(
        "glossary",
        help="Show the rights glossary: what realises each right and which rules enforce it.",
    )(glossary)
    from accord.cli import policy as _policy

    packs_app = getattr(_policy, "packs_app", None)
    if packs_app is None:  # the packs group is not there yet: provide one
        packs_app = typer.Typer(name="packs", help="Rule packs.", no_args_is_help=True)
        app.add_typer(packs_app, name="packs")
    packs_app.command(
        "diff",
        help="Show what changed between two versions of a pack and which decisions change.",
    )(diff)
