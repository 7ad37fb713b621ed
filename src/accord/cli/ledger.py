"""``accord log …`` and ``accord keys …``: the transparency log from the command line."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from accord.errors import ConflictError, Diagnostic, InputError, NotFoundError
from accord.ledger.bundle import make_bundle, parse_bundle, verify_bundle
from accord.ledger.checkpoint import Signer, Verifier
from accord.ledger.entries import load_entries
from accord.ledger.store import DEFAULT_ORIGIN, Ledger
from accord.ledger.tiles import write_tiles

DEFAULT_DB = "accord.db"
DEFAULT_KEY = "accord-log.key"

log_app = typer.Typer(name="log", help="The tamper-evident transparency log.", no_args_is_help=True)
keys_app = typer.Typer(
    name="keys", help="Signing keys for the log's checkpoints.", no_args_is_help=True
)

DbOpt = Annotated[
    str,
    typer.Option(
        "--db",
        envvar="ACCORD_DATABASE_URL",
        help="Database URL or SQLite file path.",
        show_default=True,
    ),
]
KeyOpt = Annotated[
    Path,
    typer.Option("--key", envvar="ACCORD_LOG_KEY", help="Private signing key file."),
]
OriginOpt = Annotated[
    str,
    typer.Option("--origin", envvar="ACCORD_LOG_ORIGIN", help="The log's origin (its name)."),
]


def _open(db: str, origin: str) -> Ledger:
    return Ledger.open(db, origin=origin)


def _load_signer(path: Path) -> Signer:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise NotFoundError(
            "cannot read the signing key",
            [Diagnostic(str(exc), file=str(path), hint="create one with `accord keys init`")],
        ) from exc
    return Signer.from_text(text)


def _load_verifier(value: str) -> Verifier:
    """A verifier key given inline (``name+id+key``) or as a file containing it."""
    candidate = Path(value)
    if "+" not in value or candidate.is_file():
        try:
            value = candidate.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise InputError(
                "cannot read the verifier key",
                [Diagnostic(str(exc), file=str(candidate), expected="name+keyid+base64key")],
            ) from exc
    return Verifier.from_text(value)


def _echo_json(data: object) -> None:
    typer.echo(json.dumps(data, indent=2, sort_keys=False))


# -- keys -----------------------------------------------------------------------------------------


@keys_app.command("init")
def keys_init(
    key: KeyOpt = Path(DEFAULT_KEY),
    origin: OriginOpt = DEFAULT_ORIGIN,
    name: Annotated[
        str | None, typer.Option("--name", help="Key name (default: the origin).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing key.")] = False,
) -> None:
    """Create an Ed25519 key pair; write the private key (mode 0600) and print the verifier key."""
    signer = Signer.generate(name or origin)
    if key.exists() and not force:
        raise ConflictError(
            "the key file already exists",
            [Diagnostic("refusing to overwrite", file=str(key), hint="pass --force to replace it")],
        )
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | (0 if force else os.O_EXCL)
    try:
        fd = os.open(key, flags, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(signer.to_text() + "\n")
        os.chmod(key, 0o600)
    except OSError as exc:
        raise InputError(
            "cannot write the key file", [Diagnostic(str(exc), file=str(key))]
        ) from exc
    typer.echo(signer.verifier().to_text())


@keys_app.command("verifier")
def keys_verifier(key: KeyOpt = Path(DEFAULT_KEY)) -> None:
    """Print the verifier key (``name+keyid+base64key``) of the signing key."""
    typer.echo(_load_signer(key).verifier().to_text())


# -- log ------------------------------------------------------------------------------------------


@log_app.command("append")
def log_append(
    file: Annotated[Path, typer.Argument(help="Entries: JSON, JSON Lines or YAML.")],
    db: DbOpt = DEFAULT_DB,
    origin: OriginOpt = DEFAULT_ORIGIN,
) -> None:
    """Append entries (``{"type": ..., "body": {...}}``) in one durable transaction."""
    entries = load_entries(file)
    with _open(db, origin) as ledger:
        indices = ledger.append(entries)
        size = ledger.size
    _echo_json({"appended": len(indices), "first": indices[0] if indices else None, "size": size})


@log_app.command("checkpoint")
def log_checkpoint(
    db: DbOpt = DEFAULT_DB, key: KeyOpt = Path(DEFAULT_KEY), origin: OriginOpt = DEFAULT_ORIGIN
) -> None:
    """Sign, store and print a checkpoint of the current tree (refused if inconsistent)."""
    signer = _load_signer(key)
    with _open(db, origin) as ledger:
        signed = ledger.sign_checkpoint(signer)
    typer.echo(signed.note, nl=False)


@log_app.command("proof")
def log_proof(
    index: Annotated[int, typer.Option("--index", help="Leaf index.")],
    size: Annotated[int | None, typer.Option("--size", help="Tree size (default: all).")] = None,
    db: DbOpt = DEFAULT_DB,
    origin: OriginOpt = DEFAULT_ORIGIN,
) -> None:
    """Print the inclusion proof of one entry as JSON."""
    with _open(db, origin) as ledger:
        proof = ledger.inclusion_proof(index, size)
    _echo_json(proof.to_dict())


@log_app.command("consistency")
def log_consistency(
    old: Annotated[int, typer.Option("--from", help="The older tree size.")],
    new: Annotated[int | None, typer.Option("--to", help="The newer size (default: all).")] = None,
    db: DbOpt = DEFAULT_DB,
    origin: OriginOpt = DEFAULT_ORIGIN,
) -> None:
    """Print the consistency proof between two tree sizes as JSON."""
    with _open(db, origin) as ledger:
        proof = ledger.consistency_proof(old, new)
    _echo_json(proof.to_dict())


@log_app.command("verify")
def log_verify(
    db: DbOpt = DEFAULT_DB,
    key: KeyOpt = Path(DEFAULT_KEY),
    origin: OriginOpt = DEFAULT_ORIGIN,
    verifier: Annotated[
        str | None,
        typer.Option("--verifier", help="Verifier key (text or file) to check signatures with."),
    ] = None,
) -> None:
    """Recompute the whole log from its entries; exit 5 naming what was altered and where."""
    verifiers: list[Verifier] = []
    if verifier:
        verifiers.append(_load_verifier(verifier))
    elif key.is_file():
        verifiers.append(_load_signer(key).verifier())
    err = Console(stderr=True)
    with (
        _open(db, origin) as ledger,
        Progress(
            TextColumn("verifying"),
            BarColumn(),
            TextColumn("{task.completed:,}/{task.total:,}"),
            TimeRemainingColumn(),
            console=err,
            transient=True,
            disable=not sys.stderr.isatty(),
        ) as progress,
    ):
        task = progress.add_task("verify", total=None)

        def tick(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        report = ledger.verify(verifiers=verifiers, progress=tick)
    _echo_json(
        {
            "ok": True,
            "size": report.size,
            "root": report.root.hex(),
            "interior_hashes": report.nodes,
            "checkpoints": report.checkpoints,
            "signatures_checked": report.signatures_checked,
        }
    )


@log_app.command("bundle")
def log_bundle(
    index: Annotated[int, typer.Option("--index", help="Leaf index.")],
    out: Annotated[Path | None, typer.Option("--out", help="Write here (default: stdout).")] = None,
    db: DbOpt = DEFAULT_DB,
    key: KeyOpt = Path(DEFAULT_KEY),
    origin: OriginOpt = DEFAULT_ORIGIN,
) -> None:
    """Write one entry, its inclusion proof and a signed checkpoint as a self-contained bundle.

    Uses the latest checkpoint if it covers the entry; otherwise signs a new one with ``--key``.
    """
    with _open(db, origin) as ledger:
        signed = ledger.latest_checkpoint()
        if signed is None or signed.checkpoint.size <= index:
            if not key.is_file() and index < ledger.size:
                raise NotFoundError(
                    "no signed checkpoint covers this entry",
                    [
                        Diagnostic(
                            "sign one first", hint="run `accord log checkpoint` or pass --key"
                        )
                    ],
                )
            if index < ledger.size:
                signed = ledger.sign_checkpoint(_load_signer(key))
        if signed is None:
            raise NotFoundError("no such entry", [Diagnostic("unknown index", found=str(index))])
        proof = ledger.inclusion_proof(index, signed.checkpoint.size)
        bundle = make_bundle(ledger.entry(index), proof, signed.note)
    text = json.dumps(bundle, indent=2) + "\n"
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")


@log_app.command("verify-bundle")
def log_verify_bundle(
    file: Annotated[Path, typer.Argument(help="The bundle file.")],
    verifier_key: Annotated[
        str,
        typer.Option("--key", help="The log's verifier key (name+keyid+base64key) or its file."),
    ],
    origin: Annotated[
        str | None, typer.Option("--origin", help="Also require this origin.")
    ] = None,
) -> None:
    """Verify a bundle offline with nothing but the verifier key; exit 5 if it does not hold."""
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError("cannot read the bundle", [Diagnostic(str(exc), file=str(file))]) from exc
    result = verify_bundle(parse_bundle(text), _load_verifier(verifier_key), origin=origin)
    _echo_json(
        {
            "ok": True,
            "origin": result.checkpoint.origin,
            "leaf_index": result.leaf_index,
            "log_size": result.checkpoint.size,
            "entry": result.entry.to_dict(),
        }
    )


@log_app.command("tiles")
def log_tiles(
    out: Annotated[Path, typer.Option("--out", help="Directory to write the tiles into.")],
    db: DbOpt = DEFAULT_DB,
    key: KeyOpt = Path(DEFAULT_KEY),
    origin: OriginOpt = DEFAULT_ORIGIN,
) -> None:
    """Write the C2SP tlog-tiles layout (checkpoint, hash tiles, entry bundles) for static hosting.

    Publishes the latest checkpoint; signs a fresh one first if ``--key`` exists and the log grew.
    """
    with _open(db, origin) as ledger:
        signed = ledger.latest_checkpoint()
        if key.is_file() and (signed is None or signed.checkpoint.size != ledger.size):
            signed = ledger.sign_checkpoint(_load_signer(key))
        if signed is None:
            raise NotFoundError(
                "no signed checkpoint to publish",
                [Diagnostic("the log has no checkpoint", hint="run `accord log checkpoint`")],
            )
        count = write_tiles(ledger, out, size=signed.checkpoint.size, checkpoint=signed.note)
    _echo_json({"files": count, "size": signed.checkpoint.size, "out": str(out)})


def register(app: typer.Typer) -> None:
    """Add the ``log`` and ``keys`` groups to the root app."""
    app.add_typer(log_app, name="log")
    app.add_typer(keys_app, name="keys")
