"""``accord log …`` and ``accord keys …`` end to end, in-process."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa

from accord.cli import main


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for var in ("ACCORD_DATABASE_URL", "ACCORD_LOG_KEY", "ACCORD_LOG_ORIGIN"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _entries(workdir: Path) -> Path:
    path = workdir / "entries.jsonl"
    path.write_text(
        "".join(json.dumps({"type": "event", "body": {"i": i}}) + "\n" for i in range(9)),
        encoding="utf-8",
    )
    return path


def test_keys_init_and_verifier(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "keys", "init")
    assert code == 0
    key = workdir / "accord-log.key"
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert key.read_text(encoding="utf-8").startswith("PRIVATE+KEY+accord.example/log+")
    verifier = out.strip()
    assert verifier.startswith("accord.example/log+")
    assert run(capsys, "keys", "verifier")[1].strip() == verifier
    code, _, err = run(capsys, "keys", "init")
    assert code == 2
    assert "already exists" in err


def test_append_checkpoint_proofs_verify(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "keys", "init")
    code, out, _ = run(capsys, "log", "append", str(_entries(workdir)))
    assert code == 0
    assert json.loads(out) == {"appended": 9, "first": 0, "size": 9}
    yaml_file = workdir / "more.yaml"
    yaml_file.write_text("- type: decision\n  body: {outcome: permit}\n", encoding="utf-8")
    assert json.loads(run(capsys, "log", "append", str(yaml_file))[1])["size"] == 10

    code, out, _ = run(capsys, "log", "checkpoint")
    assert code == 0
    assert out.splitlines()[:2] == ["accord.example/log", "10"]
    assert "\n\n\u2014 accord.example/log " in out

    proof = json.loads(run(capsys, "log", "proof", "--index", "3", "--size", "7")[1])
    assert set(proof) == {"log_size", "leaf_index", "leaf_hash", "hashes"}
    assert (proof["log_size"], proof["leaf_index"]) == (7, 3)
    cons = json.loads(run(capsys, "log", "consistency", "--from", "4")[1])
    assert (cons["old_size"], cons["log_size"]) == (4, 10)

    code, out, _ = run(capsys, "log", "verify")
    assert code == 0
    assert json.loads(out)["signatures_checked"] == 1


def test_bundle_verifies_offline(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    verifier = run(capsys, "keys", "init")[1].strip()
    run(capsys, "log", "append", str(_entries(workdir)))
    code, _, _ = run(capsys, "log", "bundle", "--index", "4", "--out", "b.json")
    assert code == 0
    # Offline: another directory, no database, no private key.
    offline = workdir / "offline"
    offline.mkdir()
    os.chdir(offline)
    (offline / "verifier.txt").write_text(verifier + "\n", encoding="utf-8")
    for key in (verifier, "verifier.txt"):
        code, out, _ = run(capsys, "log", "verify-bundle", "../b.json", "--key", key)
        assert code == 0
        assert json.loads(out)["entry"]["body"] == {"i": 4}
    assert not (offline / "accord.db").exists()

    bundle = json.loads((workdir / "b.json").read_text(encoding="utf-8"))
    bundle["leaf_index"] = 5
    (offline / "bad.json").write_text(json.dumps(bundle), encoding="utf-8")
    code, _, err = run(capsys, "log", "verify-bundle", "bad.json", "--key", verifier)
    assert code == 5
    assert "error" in err


def test_verify_exits_5_and_names_the_row(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "log", "append", str(_entries(workdir)))
    engine = sa.create_engine(f"sqlite:///{workdir / 'accord.db'}")
    with engine.begin() as conn:
        data = bytes(conn.execute(sa.text("SELECT data FROM ledger_bundles WHERE id = 0")).scalar())
        items, pos = [], 0
        while pos < len(data):
            end = pos + 2 + int.from_bytes(data[pos : pos + 2], "big")
            items.append(data[pos + 2 : end])
            pos = end
        items[6] = b"{}"
        forged = b"".join(len(d).to_bytes(2, "big") + d for d in items)
        conn.execute(sa.text("UPDATE ledger_bundles SET data = :d WHERE id = 0"), {"d": forged})
    engine.dispose()
    code, out, err = run(capsys, "log", "verify")
    assert code == 5
    assert out == ""
    assert "ledger_bundles(index=0)[6].entry" in err
    assert "Traceback" not in err


def test_tiles_command(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "log", "append", str(_entries(workdir)))
    code, _, err = run(capsys, "log", "tiles", "--out", "pub")
    assert code == 2  # no key, no checkpoint
    assert "checkpoint" in err
    run(capsys, "keys", "init")
    code, out, _ = run(capsys, "log", "tiles", "--out", "pub")
    assert code == 0
    assert json.loads(out)["size"] == 9
    assert (workdir / "pub" / "tile" / "0" / "000.p" / "9").stat().st_size == 9 * 32
    assert (workdir / "pub" / "tile" / "entries" / "000.p" / "9").is_file()
    assert (
        (workdir / "pub" / "checkpoint")
        .read_text(encoding="utf-8")
        .startswith("accord.example/log\n9\n")
    )


def test_env_settings_and_bad_input(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACCORD_DATABASE_URL", str(workdir / "other.db"))
    monkeypatch.setenv("ACCORD_LOG_KEY", str(workdir / "k.key"))
    monkeypatch.setenv("ACCORD_LOG_ORIGIN", "example.org/audit")
    assert run(capsys, "keys", "init")[1].startswith("example.org/audit+")
    run(capsys, "log", "append", str(_entries(workdir)))
    assert (workdir / "other.db").is_file()
    assert run(capsys, "log", "checkpoint")[1].startswith("example.org/audit\n9\n")

    bad = workdir / "bad.jsonl"
    bad.write_text('{"type": "event", "body": {}}\n{"body": {}}\n', encoding="utf-8")
    code, _, err = run(capsys, "log", "append", str(bad))
    assert code == 2
    assert "bad.jsonl:2" in err
    code, _, err = run(capsys, "log", "proof", "--index", "99")
    assert code == 2
    assert "Traceback" not in err
    # Signing under another origin than the log's checkpoints is refused.
    code, _, err = run(capsys, "log", "checkpoint", "--origin", "elsewhere/log")
    assert code == 2
    assert "origin" in err
