"""``accord odrl export|import``: rule packs to and from W3C ODRL 2.2 JSON-LD."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from accord.errors import Diagnostic, InputError, NotFoundError, PackError
from accord.policy.ast import Pack

odrl_app = typer.Typer(
    name="odrl",
    help="Export rule packs to W3C ODRL 2.2 JSON-LD and import ODRL policies as packs.",
    no_args_is_help=True,
)

_Output = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Write to this file instead of standard output."),
]


def _load_pack(ref: str) -> Pack:
    path = Path(ref)
    if path.is_file() or ref.endswith((".yaml", ".yml", ".json")) or "/" in ref:
        return Pack.from_file(path)
    packs = _shipped()
    for pack in packs:
        if pack.id == ref:
            return pack
    known = ", ".join(sorted(p.id for p in packs)) or "none"
    raise NotFoundError(
        f"no pack {ref!r}",
        [
            Diagnostic(
                "neither a pack file nor the id of a shipped pack",
                found=ref,
                expected=f"a pack file, or one of: {known}",
                hint="`accord packs list` shows the shipped packs",
            )
        ],
    )


def _shipped() -> list[Pack]:
    from accord.packs import shipped

    return list(shipped())


def _write(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text, nl=not text.endswith("\n"))
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(
            f"cannot write {output}", [Diagnostic(str(exc), file=str(output))]
        ) from exc
    typer.echo(f"wrote {output}", err=True)


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError(
            f"no such file: {path}", [Diagnostic("file not found", file=str(path))]
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}", [Diagnostic(str(exc), file=str(path))]) from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise PackError(
            f"{path} is not JSON",
            [
                Diagnostic(
                    exc.msg,
                    file=str(path),
                    line=exc.lineno,
                    column=exc.colno,
                    expected="an ODRL policy in JSON-LD",
                )
            ],
        ) from exc


@odrl_app.command("export")
def export(
    pack: Annotated[str, typer.Argument(help="A pack file, or the id of a shipped pack.")],
    output: _Output = None,
) -> None:
    """Write a rule pack as an ODRL 2.2 policy (JSON-LD)."""
    from accord.policy.odrl import to_odrl

    doc = to_odrl(_load_pack(pack))
    _write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", output)


@odrl_app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="An ODRL 2.2 policy in JSON-LD.")],
    output: _Output = None,
    validate: Annotated[
        bool,
        typer.Option(
            "--validate/--no-validate",
            help="Check the imported pack with the validator (default). --no-validate prints "
            "what could be mapped, e.g. to add the citations a plain ODRL policy lacks.",
        ),
    ] = True,
) -> None:
    """Read an ODRL 2.2 policy and print it as a rule pack (YAML)."""
    from accord.policy.odrl import from_odrl
    from accord.policy.printer import print_pack

    pack = from_odrl(_read_json(file), source=str(file), validate=validate)
    _write(print_pack(pack), output)


def register(app: typer.Typer) -> None:
    """Add ``accord odrl`` to the root app."""
    app.add_typer(odrl_app, name="odrl")
