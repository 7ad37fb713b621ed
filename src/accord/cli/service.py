"""``accord`` commands for the service area: ``serve``, ``demo``, ``db``, ``users``, ``orgs``,
``tokens``."""

from __future__ import annotations

import json
import os
import signal
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from accord.errors import Diagnostic, InputError

_out = Console(highlight=False, soft_wrap=True)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="SQLite file or database URL (default: env ACCORD_DATABASE_URL, else accord.db).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]

db_app = typer.Typer(help="Manage the database schema.", no_args_is_help=True)
users_app = typer.Typer(help="Manage users.", no_args_is_help=True)
orgs_app = typer.Typer(help="Manage organisations.", no_args_is_help=True)
tokens_app = typer.Typer(help="Manage API tokens.", no_args_is_help=True)


def _service(db: str | None, *, migrate: bool = True, **overrides: Any) -> Any:
    from accord.service import Service
    from accord.settings import Settings

    return Service(Settings.from_env(database_url=db, **overrides), migrate=migrate)


def _print_rows(rows: list[dict[str, Any]], columns: list[str], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(rows, indent=2, default=str))
        return
    table = Table(*columns)
    for row in rows:
        table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
    _out.print(table)


def _role(value: str) -> Any:
    from accord.storage.accounts import parse_role

    return parse_role(value, path="--role")


def _org_ref(value: str | None) -> int | str | None:
    if value is None:
        return None
    return int(value) if value.isdigit() else value


# ------------------------------------------------------------------ serve / demo


def _run(app: Any, host: str, port: int) -> None:
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False)


def _listen(host: str, port: int) -> Any:
    """A listening TCP socket for worker processes to share. Created with ``IPPROTO_TCP`` so
    that asyncio sets ``TCP_NODELAY`` on accepted connections (a socket made with protocol 0, as
    uvicorn's own ``--workers`` path makes it, leaves Nagle on: ~40 ms per small response)."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise InputError(
            f"cannot listen on {host}:{port}",
            [
                Diagnostic(
                    exc.strerror or str(exc),
                    path="--port",
                    found=f"{host}:{port}",
                    hint="another server may be using it: stop it or choose --port/--host",
                )
            ],
        ) from exc
    sock.set_inheritable(True)
    return sock


def _exit_on_signal(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)


def serve_workers(
    factory: str,
    *,
    host: str,
    port: int,
    workers: int,
    sequencer: bool = True,
    log_level: str = "info",
    access_log: bool = True,
    reserve_sequencer_cpu: bool = False,
) -> None:
    """Serve the app made by ``factory`` (``module:function``, called in each process; settings
    from ``ACCORD_*``) with ``workers`` uvicorn processes on one socket.

    With ``sequencer`` (the default), one sequencer process (:mod:`accord.sequencer`) decides and
    records every API decision and the workers forward to it. Without, every process has its own
    group-commit writer; they share the database: SQLite serialises their write transactions
    (``BEGIN IMMEDIATE``, WAL), PostgreSQL the log's head row, and each process's log writer
    reloads the tree's right edge when another process appended.

    ``reserve_sequencer_cpu``: bind the sequencer to a CPU of its own and the web workers to the
    others (:mod:`accord.placement`)."""
    if sequencer:
        from accord import placement
        from accord.sequencer.process import SEQUENCER_CPU_ENV, SequencerProcess

        where = placement.plan(placement.allowed_cpus()) if reserve_sequencer_cpu else None
        if reserve_sequencer_cpu and where is None:
            _out.print("note: one CPU only: the sequencer cannot have one of its own")
        env = dict(os.environ)
        if where is not None:
            env[SEQUENCER_CPU_ENV] = str(where.sequencer)
        # uvicorn re-raises the SIGTERM it handled once it has shut down: exit through the
        # `with` below then, so that the sequencer commits what it accepted and its socket goes.
        signal.signal(signal.SIGTERM, _exit_on_signal)
        with SequencerProcess(env) as path:
            if where is not None and placement.apply(where.web, "web workers"):
                cpus = ", ".join(map(str, sorted(where.web)))
                _out.print(f"sequencer on CPU {where.sequencer}; web workers on CPU {cpus}")
            os.environ["ACCORD_SEQUENCER_SOCKET"] = str(path)
            try:
                serve_workers(
                    factory,
                    host=host,
                    port=port,
                    workers=workers,
                    sequencer=False,
                    log_level=log_level,
                    access_log=access_log,
                )
            finally:
                os.environ.pop("ACCORD_SEQUENCER_SOCKET", None)
        return
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config(
        factory,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        access_log=access_log,
        proxy_headers=False,
    )
    sock = _listen(host, port)
    before = os.environ.get("ACCORD_WARM_START")
    os.environ["ACCORD_WARM_START"] = "1"  # long-lived server processes (see Settings)
    try:
        if workers > 1:
            Multiprocess(config, sockets=[sock]).run()
        else:
            uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
        if before is None:
            os.environ.pop("ACCORD_WARM_START", None)
        else:
            os.environ["ACCORD_WARM_START"] = before


def prepare_workers(settings: Any) -> dict[str, str]:
    """Do once, before worker processes start, what each would otherwise race to do: migrate,
    store the shipped packs, bootstrap the admin token, create the log key. Returns the
    environment the workers need (one session secret shared by all)."""
    from accord.service import Service

    service = Service(settings)
    try:
        service.ensure_shipped_packs()
        if settings.admin_token:
            service.ensure_admin_token(settings.admin_token, email=settings.admin_email)
        service.ledger.verifier_key()  # creates the key file if absent
    finally:
        service.close()
    return {
        "ACCORD_DATABASE_URL": settings.database_url,
        "ACCORD_SECRET_KEY": settings.secret_key,
        "ACCORD_LOG_KEY": str(settings.log_key_path),
        "ACCORD_LOG_ORIGIN": settings.log_origin,
    }


def serve(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 8000,
    workers: Annotated[
        int,
        typer.Option(help="Web worker processes (see docs/service.md).", min=1, max=64),
    ] = 1,
    sequencer: Annotated[
        bool,
        typer.Option(
            "--sequencer/--no-sequencer",
            help="Decide and record API decisions in one sequencer process (the default), or "
            "in every web process with its own group-commit writer.",
        ),
    ] = True,
    reserve_sequencer_cpu: Annotated[
        bool,
        typer.Option(
            "--reserve-sequencer-cpu",
            help="Bind the sequencer to a CPU of its own and the web workers to the others "
            "(also ACCORD_RESERVE_SEQUENCER_CPU=1; see docs/service.md).",
        ),
    ] = False,
) -> None:
    """Migrate the database and serve the web app and the API (uvicorn)."""
    from accord.settings import Settings
    from accord.web.app import create_app

    settings = Settings.from_env(database_url=db)
    reserve = reserve_sequencer_cpu or settings.reserve_sequencer_cpu
    if reserve and not sequencer:
        _out.print("note: --reserve-sequencer-cpu has no effect with --no-sequencer")
    _out.print(f"Accord on http://{host}:{port}/  (API docs: /docs, OpenAPI: /openapi.json)")
    if not os.environ.get("ACCORD_SECRET_KEY"):
        _out.print("note: ACCORD_SECRET_KEY is not set, so browser sessions end when this stops")
    if workers == 1 and not sequencer:
        _run(create_app(settings.with_(warm_start=True)), host, port)  # a server, as below
        return
    os.environ.update(prepare_workers(settings))
    serve_workers(
        "accord.web.app:create_app",
        host=host,
        port=port,
        workers=workers,
        sequencer=sequencer,
        reserve_sequencer_cpu=reserve,
    )


def demo(
    db: Annotated[
        str, typer.Option("--db", help="SQLite file or database URL for the demo world.")
    ] = "accord-demo.db",
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 8000,
    decisions: Annotated[
        int, typer.Option(help="Decisions to record when seeding.", min=0, max=100_000)
    ] = 300,
    serve_: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve after seeding.")] = True,
) -> None:
    """Seed a demo world (idempotent), print the sign-ins, and serve on 127.0.0.1:8000."""
    from accord import demo as demo_world
    from accord.service import Service
    from accord.settings import Settings

    settings = Settings.from_env(database_url=db)
    service = Service(settings)
    world = demo_world.seed(service, decisions=decisions)
    state = "seeded" if world.created else "reused"
    _out.print(f"Demo database {state}: {settings.database_url} ({world.decisions} decisions)")
    typer.echo("Demo sign-ins (email / password, role, organisation):")
    for user in world.users:
        org = f", {user.org}" if user.org else ""
        typer.echo(f"  {user.email} / {user.password}  ({user.role}{org})")
    _out.print(f"Open http://{host}:{port}/  (API docs: http://{host}:{port}/docs)")
    service.close()
    if serve_:
        os.environ.update(prepare_workers(settings))
        serve_workers("accord.web.app:create_app", host=host, port=port, workers=1)


# ------------------------------------------------------------------ db


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Apply every migration (idempotent)."""
    from accord.settings import Settings
    from accord.storage.db import Database
    from accord.storage.migrate import upgrade

    settings = Settings.from_env(database_url=db)
    database = Database(settings.database_url)
    try:
        revision = upgrade(database.write_engine)
    finally:
        database.dispose()
    typer.echo(f"database at revision {revision}")


@db_app.command("current")
def db_current(db: DbOption = None) -> None:
    """Print the database's migration revision (and the newest one shipped)."""
    from accord.settings import Settings
    from accord.storage.db import Database
    from accord.storage.migrate import current, head

    settings = Settings.from_env(database_url=db)
    database = Database(settings.database_url)
    try:
        typer.echo(f"current: {current(database.read_engine) or 'none'}  head: {head()}")
    finally:
        database.dispose()


# ------------------------------------------------------------------ orgs


@orgs_app.command("create")
def orgs_create(
    name: Annotated[str, typer.Argument(help="Organisation name.")],
    country: Annotated[str, typer.Option(help="ISO 3166-1 alpha-2 country code.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add an organisation."""
    from accord.service import OPERATOR

    service = _service(db)
    try:
        row = service.create_org(OPERATOR, name=name, country=country)
    finally:
        service.close()
    _print_rows([row], ["id", "name", "country"], as_json)


@orgs_app.command("list")
def orgs_list(db: DbOption = None, as_json: JsonOption = False) -> None:
    """List organisations."""
    from accord.service import OPERATOR

    service = _service(db)
    try:
        rows = service.list_orgs(OPERATOR)
    finally:
        service.close()
    _print_rows(rows, ["id", "name", "country", "created_at"], as_json)


# ------------------------------------------------------------------ users


def _password(password: str | None, prompt: bool) -> str | None:
    if prompt:
        value: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        return value
    return password


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Argument(help="Email address (the sign-in name).")],
    role: Annotated[str, typer.Option(help="admin | regulator | auditor | member.")],
    org: Annotated[
        str | None, typer.Option(help="Organisation id or name (required for members).")
    ] = None,
    password: Annotated[str | None, typer.Option(help="Password (at least 8 characters).")] = None,
    prompt_password: Annotated[
        bool, typer.Option("--prompt-password", help="Ask for the password.")
    ] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add a user."""
    from accord.service import OPERATOR

    service = _service(db)
    try:
        row = service.create_user(
            OPERATOR,
            email=email,
            role=_role(role),
            org=_org_ref(org),
            password=_password(password, prompt_password),
        )
    finally:
        service.close()
    _print_rows([row], ["id", "email", "role", "org_id"], as_json)


@users_app.command("list")
def users_list(db: DbOption = None, as_json: JsonOption = False) -> None:
    """List users."""
    from accord.service import OPERATOR

    service = _service(db)
    try:
        rows = service.list_users(OPERATOR)
    finally:
        service.close()
    _print_rows(rows, ["id", "email", "role", "org_id", "active", "has_password"], as_json)


@users_app.command("set-role")
def users_set_role(
    user: Annotated[str, typer.Argument(help="User email or id.")],
    role: Annotated[str, typer.Argument(help="admin | regulator | auditor | member.")],
    db: DbOption = None,
) -> None:
    """Change a user's role."""
    from accord.service import OPERATOR

    service = _service(db)
    try:
        row = service.set_role(OPERATOR, _org_ref(user) or user, _role(role))
    finally:
        service.close()
    typer.echo(f"{row['email']} is now {row['role']}")


@users_app.command("set-password")
def users_set_password(
    user: Annotated[str, typer.Argument(help="User email or id.")],
    password: Annotated[str | None, typer.Option(help="The new password.")] = None,
    prompt_password: Annotated[
        bool, typer.Option("--prompt-password", help="Ask for the password.")
    ] = False,
    db: DbOption = None,
) -> None:
    """Set a user's password."""
    from accord.service import OPERATOR

    value = _password(password, prompt_password)
    if value is None:
        raise InputError(
            "no password given",
            [Diagnostic("missing", path="--password", hint="or use --prompt-password")],
        )
    service = _service(db)
    try:
        service.set_password(OPERATOR, _org_ref(user) or user, value)
    finally:
        service.close()
    typer.echo("password set")


@users_app.command("disable")
def users_disable(
    user: Annotated[str, typer.Argument(help="User email or id.")], db: DbOption = None
) -> None:
    """Disable a user: its sessions and tokens stop working."""
    from accord.service import OPERATOR

    service = _service(db)
    try:
        row = service.set_active(OPERATOR, _org_ref(user) or user, False)
    finally:
        service.close()
    typer.echo(f"{row['email']} disabled")


@users_app.command("enable")
def users_enable(
    user: Annotated[str, typer.Argument(help="User email or id.")], db: DbOption = None
) -> None:
    """Enable a disabled user."""
    from accord.service import OPERATOR

    service = _service(db)
    try:
        row = service.set_active(OPERATOR, _org_ref(user) or user, True)
    finally:
        service.close()
    typer.echo(f"{row['email']} enabled")


# ------------------------------------------------------------------ tokens


@tokens_app.command("create")
def tokens_create(
    user: Annotated[str, typer.Argument(help="User email or id.")],
    name: Annotated[str, typer.Option(help="What the token is for.")] = "cli",
    scope: Annotated[
        list[str] | None, typer.Option("--scope", help="read or write (repeatable).")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create an API token; its secret is printed once and never stored."""
    from accord.service import OPERATOR

    service = _service(db)
    try:
        row, secret = service.issue_token(
            OPERATOR,
            user=_org_ref(user) or user,
            name=name,
            scopes=tuple(scope) if scope else ("read", "write"),
        )
    finally:
        service.close()
    if as_json:
        typer.echo(json.dumps(row | {"token": secret}, indent=2))
    else:
        _out.print(f"token {row['id']} for {row['user']} ({', '.join(row['scopes'])}):")
        typer.echo(secret)
        _out.print("Keep it now: it is not stored and cannot be shown again.")


@tokens_app.command("list")
def tokens_list(db: DbOption = None, as_json: JsonOption = False) -> None:
    """List every token (prefixes only)."""
    from accord.service import OPERATOR

    service = _service(db)
    try:
        rows = service.list_tokens(OPERATOR, all_users=True)
    finally:
        service.close()
    _print_rows(
        rows, ["id", "user", "name", "prefix", "scopes", "last_used_at", "revoked_at"], as_json
    )


@tokens_app.command("revoke")
def tokens_revoke(
    token_id: Annotated[int, typer.Argument(help="Token id (see `accord tokens list`).")],
    db: DbOption = None,
) -> None:
    """Revoke a token."""
    from accord.service import OPERATOR

    service = _service(db)
    try:
        row = service.revoke_token(OPERATOR, token_id)
    finally:
        service.close()
    typer.echo(f"token {row['id']} ({row['prefix']}…) revoked")


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.command("serve")(serve)
    app.command("demo")(demo)
    app.add_typer(db_app, name="db")
    app.add_typer(users_app, name="users")
    app.add_typer(orgs_app, name="orgs")
    app.add_typer(tokens_app, name="tokens")
