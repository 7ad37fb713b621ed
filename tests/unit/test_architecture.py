"""The domain core never imports the outer layers (storage, web, service, cli)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "accord"
CORE = ("vocab", "policy", "packs", "ledger", "errors")
OUTER = ("accord.storage", "accord.web", "accord.service", "accord.cli")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _core_files() -> list[Path]:
    files: list[Path] = []
    for name in CORE:
        target = SRC / name
        if target.is_dir():
            files.extend(sorted(target.rglob("*.py")))
        elif target.with_suffix(".py").exists():
            files.append(target.with_suffix(".py"))
    return files


@pytest.mark.parametrize("path", _core_files(), ids=lambda p: str(p.relative_to(SRC)))
def test_core_does_not_import_outer_layers(path: Path) -> None:
    bad = sorted(m for m in _imports(path) if m.startswith(OUTER))
    assert not bad, f"{path.relative_to(SRC)} imports {bad}"
