"""docs/service.md, docs/api.md and docs/roles.md say what the code does."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

DOCS = Path(__file__).resolve().parents[3] / "docs"


def _text(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def test_every_setting_is_documented() -> None:
    from accord.settings import ENV_VARS

    text = _text("service.md")
    missing = [name for name in ENV_VARS if f"`{name}`" not in text]
    assert not missing


def test_every_service_command_is_documented() -> None:
    import typer.main

    from accord.cli import app

    text = _text("service.md")
    click_app = typer.main.get_command(app)
    commands: list[str] = ["serve", "demo"]
    for group in ("db", "orgs", "users", "tokens"):
        sub = click_app.commands[group]  # type: ignore[attr-defined]
        commands += [f"{group} {name}" for name in sub.commands]
    missing = [c for c in commands if f"`accord {c}" not in text]
    assert not missing


@pytest.fixture
def spec(tmp_path: Path) -> Any:
    from accord.settings import Settings
    from accord.web.app import create_app

    app = create_app(
        Settings(database_url=f"sqlite:///{tmp_path / 'a.db'}", log_key_path=str(tmp_path / "k"))
    )
    try:
        return app.openapi()
    finally:
        app.state.service.close()


def test_every_api_path_is_documented(spec: Any) -> None:
    text = _text("api.md")
    documented = set(re.findall(r"`(?:GET|POST) (/[^`\s?\[]*)", text))
    names = {re.sub(r"\{[^}]+\}", "{}", p) for p in documented}
    api_paths = [
        p for p in spec["paths"] if p.startswith(("/api/", "/log/", "/healthz", "/metrics"))
    ]
    missing = [p for p in api_paths if re.sub(r"\{[^}]+\}", "{}", p) not in names]
    # tiles are written with their path syntax ({N}[.p/{W}]) in the docs
    missing = [p for p in missing if not p.startswith("/log/tile/")]
    assert not missing
    assert "/log/tile/{L}/{N}" in text
    assert "/log/tile/entries/{N}" in text


def test_roles_table_matches_the_code() -> None:
    from accord.service import CAPABILITIES, Capability
    from accord.storage.models import Role

    rows = {}
    for line in _text("roles.md").splitlines():
        match = re.match(r"^\| `([a-z:-]+)`[^|]*\|(.*)\|\s*$", line)
        if match:
            cells = [c.strip() for c in match.group(2).split("|")]
            rows[match.group(1)] = cells
    assert set(rows) == {c.value for c in Capability}
    order = [Role.ADMIN, Role.REGULATOR, Role.AUDITOR, Role.MEMBER]
    for capability in Capability:
        cells = rows[capability.value]
        expected = ["yes" if capability in CAPABILITIES[r] else "no" for r in order] + ["no"]
        assert cells == expected, capability
