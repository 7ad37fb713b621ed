"""The examples in docs/ run: every page's files are written and validated, its commands executed.

Conventions, usable on every page (see docs/index.md, "Examples are tested"):

- A fenced block that names a file — a YAML block whose first line is ``# file: PATH`` (that line
  is not part of the file), or any block whose info string holds ``file=PATH``
  (```` ```json file=policy.json ````) — is written to PATH in a scratch directory seeded with a
  copy of ``examples/``. YAML holding a ``pack:`` block is parsed and validated as a rule pack,
  YAML holding an ``exporter:`` as transfer documents; JSON must parse (JSON Lines, for a
  ``.jsonl`` PATH, line by line). ``expect=invalid`` in the info string marks a deliberately broken
  example: it must fail validation. When PATH also exists in the repository, the block must equal
  that file, so docs and examples cannot drift apart.
- In a ```` ```console ```` block, each line ``$ accord ...`` is run in-process with
  :func:`accord.cli.main` in that directory, in page order. The exit code must be 0 unless the line
  ends with ``# exit N``; ``# not run`` skips a line (servers); ``> FILE`` writes what the command
  printed on standard output to FILE. The lines after a command are its expected output: each must
  appear, in order, in what the command printed (whitespace is normalised; a line ``...`` stands
  for anything). Commands other than ``accord`` are not run.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from accord.cli import main
from accord.errors import PackError, TransferError
from accord.policy import Pack, Transfer

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
EXAMPLES = ROOT / "examples"

_FENCE = re.compile(r"^```(?P<info>[^\n`]*)\n(?P<body>.*?)^```[ \t]*$", re.M | re.S)
_EXIT = re.compile(r"#\s*exit\s+(\d+)\s*$")
_NOT_RUN = re.compile(r"#\s*not run\s*$")


@dataclass
class Block:
    page: Path
    line: int
    lang: str
    attrs: dict[str, str]
    body: str

    @property
    def where(self) -> str:
        page = self.page.relative_to(ROOT) if self.page.is_relative_to(ROOT) else self.page
        return f"{page}:{self.line}"

    @property
    def file(self) -> str | None:
        if "file" in self.attrs:
            return self.attrs["file"]
        first = self.body.split("\n", 1)[0]
        match = re.fullmatch(r"#\s*file:\s*(\S+)\s*", first)
        return match.group(1) if match and self.lang in {"yaml", "yml"} else None


@dataclass
class Command:
    argv: list[str]
    text: str
    exit_code: int
    expected: list[str] = field(default_factory=list)
    stdout_to: str | None = None


def blocks(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    out: list[Block] = []
    for m in _FENCE.finditer(text):
        info = m.group("info").split()
        lang = info[0] if info else ""
        attrs = dict(part.split("=", 1) for part in info[1:] if "=" in part)
        line = text.count("\n", 0, m.start()) + 1
        out.append(Block(page, line, lang, attrs, m.group("body")))
    return out


def commands(block: Block) -> list[Command]:
    out: list[Command] = []
    for raw in block.body.splitlines():
        if raw.startswith("$ "):
            text = raw[2:].strip()
            argv = shlex.split(text, comments=True)
            if not argv or argv[0] != "accord" or _NOT_RUN.search(text):
                out.append(Command([], text, 0))  # shown, not run
                continue
            code = _EXIT.search(text)
            stdout_to = None
            if ">" in argv[:-1]:
                at = argv.index(">")
                argv, stdout_to = argv[:at], argv[at + 1]
            out.append(Command(argv[1:], text, int(code.group(1)) if code else 0))
            out[-1].stdout_to = stdout_to
        elif out and raw.strip():
            out[-1].expected.append(raw.strip())
    return out


def _pages() -> list[Path]:
    pages = []
    for page in sorted(DOCS.rglob("*.md")):
        found = blocks(page)
        if any(b.file for b in found) or any(c.argv for b in found for c in commands(b)):
            pages.append(page)
    return pages


def _normalise(text: str) -> str:
    return " ".join(text.split())


def _check_file(block: Block, path: str, scratch: Path) -> None:
    body = block.body
    if "file" not in block.attrs:  # drop the "# file: PATH" tag line
        body = body.split("\n", 1)[1] if "\n" in body else ""
    target = scratch / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(body, encoding="utf-8")
    repo_copy = ROOT / path
    if repo_copy.is_file():
        assert repo_copy.read_text(encoding="utf-8") == body, (
            f"{block.where}: the block differs from {path} in the repository"
        )
    if path.endswith(".jsonl") or block.lang in {"jsonl", "jsonlines"}:
        for line in body.splitlines():
            if line.strip():
                json.loads(line)
        return
    if block.lang == "json":
        json.loads(body)
        return
    if block.lang not in {"yaml", "yml"}:
        return
    invalid = block.attrs.get("expect") == "invalid"
    docs = [d for d in yaml.safe_load_all(body) if d is not None]
    if len(docs) == 1 and isinstance(docs[0], dict) and "pack" in docs[0]:
        if invalid:
            with pytest.raises(PackError):
                Pack.from_text(body, source=path)
        else:
            Pack.from_text(body, source=path)
    elif docs and all(isinstance(d, dict) and "exporter" in d for d in docs):
        if invalid:
            with pytest.raises(TransferError):
                Transfer.from_text(body, source=path)
        else:
            assert Transfer.from_text(body, source=path)


def _run(block: Block, command: Command, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    code = main(command.argv)
    captured = capsys.readouterr()
    if command.stdout_to is not None:
        Path(command.stdout_to).write_text(captured.out, encoding="utf-8")
    printed = captured.out + "\n" + captured.err
    assert code == command.exit_code, (
        f"{block.where}: `{command.text}` exited {code}, the doc says {command.exit_code}\n"
        f"{printed}"
    )
    haystack = _normalise(printed)
    position = 0
    for line in command.expected:
        if line == "...":
            continue
        found = haystack.find(_normalise(line), position)
        assert found >= 0, (
            f"{block.where}: `{command.text}` did not print {line!r} (in order)\n{printed}"
        )
        position = found + len(_normalise(line))


@pytest.mark.parametrize("page", _pages(), ids=lambda p: p.name)
def test_page_examples_run(
    page: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if EXAMPLES.is_dir():
        shutil.copytree(EXAMPLES, tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")
    for name in [n for n in os.environ if n.startswith("ACCORD_")]:
        monkeypatch.delenv(name)  # defaults only: files in the scratch directory
    for block in blocks(page):
        path = block.file
        if path is not None:
            _check_file(block, path, tmp_path)
        elif block.lang == "console":
            for command in commands(block):
                if command.argv:
                    _run(block, command, capsys)


def test_the_conventions_catch_mistakes(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "```console\n$ accord version   # exit 3\n0.1.0\n$ make demo\n$ accord version > v.txt\n"
        "$ accord serve  # not run\n```\n"
        "```yaml\n# file: a.yaml\nx: 1\n```\n"
        "```json file=b.json\n{}\n```\n",
        encoding="utf-8",
    )
    found = blocks(page)
    assert [b.lang for b in found] == ["console", "yaml", "json"]
    version, make, redirected, serve = commands(found[0])
    assert redirected.argv == ["version"]
    assert redirected.stdout_to == "v.txt"
    assert version.argv == ["version"]
    assert version.exit_code == 3
    assert version.expected == ["0.1.0"]
    assert make.argv == []
    assert serve.argv == []
    assert [b.file for b in found] == [None, "a.yaml", "b.json"]


def test_a_wrong_exit_code_or_output_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "page.md"
    page.write_text("```console\n$ accord version   # exit 3\n$ accord version\n9.9\n```\n")
    (block,) = blocks(page)
    wrong_code, wrong_output = commands(block)
    with pytest.raises(AssertionError, match="exited 0, the doc says 3"):
        _run(block, wrong_code, capsys)
    with pytest.raises(AssertionError, match=r"did not print '9\.9'"):
        _run(block, wrong_output, capsys)


@pytest.mark.parametrize(
    "name", ["index.md", "cli.md", "odrl.md", "tutorial-bilateral-agreement.md"]
)
def test_relative_links_resolve(name: str) -> None:
    page = DOCS / name
    for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target):
            continue  # an absolute URL
        path = target.split("#", 1)[0]
        assert not path or (page.parent / path).exists(), f"{name}: broken link {target}"
