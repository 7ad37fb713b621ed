"""A real browser against a real server: sign in, check a transfer, read the decision, open the log.

Runs Debian's Chromium (``/usr/bin/chromium``) through Playwright against ``uvicorn`` serving the
product app on a free loopback port, with a seeded SQLite database and the shipped packs. Each page
is saved as a screenshot in the test's temporary directory.
"""

from __future__ import annotations

import base64
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from accord.cli import main
from accord.service import OPERATOR, Service
from accord.settings import Settings
from accord.storage.models import Role

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
EMAIL = "analyst@acme.example"
PASSWORD = "browser-test-1"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian's Chromium is not installed at /usr/bin/chromium (apt-get install chromium)",
    ),
]


_FOLDERS: dict[str, Path] = {}


def server_dir(base: str) -> Path:
    """The folder holding the database of the server at ``base``."""
    return _FOLDERS[base]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``uvicorn`` serving the app on a seeded SQLite database; yields its base URL."""
    folder = tmp_path_factory.mktemp("server")
    env = {
        **os.environ,
        "ACCORD_DATABASE_URL": f"sqlite:///{folder / 'accord.db'}",
        "ACCORD_LOG_KEY": str(folder / "log.key"),
        "ACCORD_SECRET_KEY": "browser-test-secret",
    }
    settings = Settings.from_env(env)
    service = Service(settings)
    try:
        service.ensure_shipped_packs()
        service.create_org(OPERATOR, name="Acme Health", country="US")
        service.create_user(
            OPERATOR, email=EMAIL, role=Role.MEMBER, org="Acme Health", password=PASSWORD
        )
    finally:
        service.close()
    port = _free_port()
    log = (folder / "server.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "accord.web.app:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    _FOLDERS[base] = folder
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(f"the server did not start:\n{(folder / 'server.log').read_text()}")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - uvicorn exits on SIGTERM
            process.kill()
            process.wait()
        log.close()


def test_sign_in_check_a_transfer_and_open_the_log(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    shots: list[Path] = []

    def shot(page: object, name: str) -> None:
        path = tmp_path / f"{len(shots):02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
        shots.append(path)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))

            page.goto(f"{server}/")
            expect(page.get_by_role("heading", level=1)).to_contain_text("Cross-border")
            shot(page, "landing")

            page.get_by_role("link", name="Sign in", exact=True).click()
            page.get_by_label("Email").fill(EMAIL)
            page.get_by_label("Password").fill("wrong-password")
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_role("alert")).to_contain_text("do not match")
            shot(page, "sign-in-error")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_text(EMAIL)).to_be_visible()

            page.get_by_role("link", name="Check a transfer").first.click()
            expect(page).to_have_url(f"{server}/check")
            page.get_by_label("Country").first.select_option("US")
            page.get_by_label("Kind").first.select_option("company")
            page.get_by_role("button", name="Check the transfer").click()
            summary = page.locator("#form-errors")
            expect(summary).to_be_focused()
            expect(summary).to_contain_text("Choose the importer's country.")
            expect(page.locator("#f-importer-country")).to_have_attribute("aria-invalid", "true")
            expect(page.locator("#f-importer-country-error")).to_be_visible()
            shot(page, "check-errors")
            page.locator("#f-importer-country").select_option("CN")
            page.locator("#f-importer-kind").select_option("company")
            page.get_by_label("Covered person (US DSP)").select_option("true")
            page.get_by_label("Category 1").select_option("human-genomic")
            page.locator("#f-count-0").fill("5000")
            page.get_by_label("Transaction").select_option("data-brokerage")
            shot(page, "check-form")
            page.get_by_role("button", name="Check the transfer").click()

            decision = page.locator("#decision")
            expect(decision).to_be_visible()
            badge = decision.locator("[data-outcome]").first
            # The shipped packs decide; whatever they say, it is one of the four outcomes,
            # explained with citations that link to the official text.
            expect(badge).to_have_attribute(
                "data-outcome", re.compile(r"^(permit|permit_with_obligations|deny|indeterminate)$")
            )
            expect(decision).to_contain_text("28 CFR 202")
            expect(decision.locator("a[href^='https://www.ecfr.gov']").first).to_be_visible()
            expect(decision.locator("[data-leaf-index]")).to_be_visible()
            # htmx swapped the area in place: still on /check, no full page load.
            expect(page).to_have_url(f"{server}/check")
            expect(page.locator("#checking")).to_have_css("opacity", "0")
            expect(page.locator("#decision-title")).to_be_focused()
            leaf_index = int(decision.locator("[data-leaf-index]").inner_text())
            shot(page, "decision")

            page.get_by_role("link", name="permanent page").click()
            expect(page.get_by_role("heading", level=1)).to_contain_text("Decision on")
            shot(page, "decision-page")

            page.get_by_role("link", name="Decisions", exact=True).click()
            expect(page.locator("tbody tr")).to_have_count(1)
            shot(page, "decisions")

            page.get_by_role("link", name="Packs & agreements").click()
            page.get_by_role("link", name="US Data Security Program").first.click()
            expect(page.locator("#rules-h")).to_be_visible()
            shot(page, "pack")

            page.get_by_role("link", name="Log", exact=True).click()
            expect(page.locator("#checkpoint-text")).to_contain_text("\n1\n")
            expect(page.locator("#verifier-key")).not_to_be_empty()
            expect(page.get_by_text("accord log verify-bundle")).to_be_visible()
            verifier_key = page.locator("#verifier-key").inner_text().strip()
            shot(page, "log")

            page.get_by_role("button", name="Sign out").click()
            expect(page.get_by_role("link", name="Sign in", exact=True)).to_be_visible()
            assert errors == [], errors
        finally:
            browser.close()
    assert all(path.stat().st_size > 10_000 for path in shots)

    # The log page's steps work: a bundle of the decision's entry verifies with the shown key.
    bundle = tmp_path / "bundle.json"
    key_file = tmp_path / "verifier.key"
    key_file.write_text(verifier_key + "\n", encoding="utf-8")
    db = str(server_dir(server) / "accord.db")
    assert (
        main(["log", "bundle", "--index", str(leaf_index), "--db", db, "--out", str(bundle)]) == 0
    )
    assert main(["log", "verify-bundle", str(bundle), "--key", str(key_file)]) == 0
    data = json.loads(bundle.read_text(encoding="utf-8"))
    entry = json.loads(base64.b64decode(data["entry"]))
    entry["body"]["outcome"] = "permit" if entry["body"]["outcome"] != "permit" else "deny"
    data["entry"] = base64.b64encode(json.dumps(entry).encode()).decode()
    bundle.write_text(json.dumps(data), encoding="utf-8")
    assert main(["log", "verify-bundle", str(bundle), "--key", str(key_file)]) != 0
