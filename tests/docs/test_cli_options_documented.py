"""docs/cli.md names every ``accord`` command and every one of its options."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
import typer.main

from accord.cli import app

CLI_DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def _commands() -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []

    def walk(command: click.Command, path: list[str]) -> None:
        subcommands = getattr(command, "commands", None)
        if subcommands:
            for name, sub in sorted(subcommands.items()):
                if not sub.hidden:
                    walk(sub, [*path, name])
        else:
            found.append((" ".join(path), command))

    walk(typer.main.get_command(app), ["accord"])
    return found


@pytest.mark.parametrize(("path", "command"), _commands(), ids=[p for p, _ in _commands()])
def test_command_and_options_in_cli_doc(path: str, command: click.Command) -> None:
    text = CLI_DOC.read_text(encoding="utf-8")
    assert f"`{path}" in text, f"`{path}` has no entry in docs/cli.md"
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden and param.name != "help":
            names = [o for o in [*param.opts, *param.secondary_opts] if o.startswith("--")]
            assert any(name in text for name in names), f"{path}: {names} not in docs/cli.md"
