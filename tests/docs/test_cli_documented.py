"""Every ``accord`` command (and sub-command) appears in the documentation under docs/."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer.main

from accord.cli import app

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _command_paths() -> list[str]:
    root = typer.main.get_command(app)
    paths: list[str] = []

    def walk(command: object, prefix: list[str]) -> None:
        subcommands = getattr(command, "commands", None)
        if not subcommands:
            paths.append(" ".join(prefix))
            return
        for name, sub in sorted(subcommands.items()):
            if getattr(sub, "hidden", False):
                continue
            walk(sub, [*prefix, name])

    walk(root, ["accord"])
    return paths


def _docs_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(DOCS.rglob("*.md")))


@pytest.mark.parametrize("command", _command_paths())
def test_command_is_documented(command: str) -> None:
    assert command in _docs_text(), f"`{command}` is not documented anywhere in docs/"
