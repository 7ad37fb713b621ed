"""The ``accord`` command line: a thin Typer app.

Each area registers its commands from its own module (``policy``, ``regimes``, ``odrl``, ``ledger``,
``service``). This module turns an :class:`~accord.errors.AccordError` into a message on stderr
and its exit code: never a traceback for bad input.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.markup import escape

from accord.cli import ledger as _ledger
from accord.cli import odrl as _odrl
from accord.cli import policy as _policy
from accord.cli import regimes as _regimes
from accord.cli import service as _service
from accord.errors import AccordError

app = typer.Typer(
    name="accord",
    help="Accord: decide cross-border data transfers against rule packs, with a verifiable record.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.command("version")
def version() -> None:
    """Print Accord's version."""
    from accord import __version__

    typer.echo(__version__)


_policy.register(app)
_regimes.register(app)
_ledger.register(app)
_service.register(app)
_odrl.register(app)

_err = Console(stderr=True, highlight=False, soft_wrap=True)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code instead of raising ``SystemExit`` (handy in tests)."""
    try:
        result = app(args=argv, prog_name="accord", standalone_mode=False)
        if isinstance(result, int):  # typer.Exit(n) is returned, not raised, here
            return result
    except AccordError as exc:
        _err.print(f"[bold red]error[/]: {escape(exc.render())}", markup=True)
        return exc.exit_code
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else 2
    except KeyboardInterrupt:
        _err.print("interrupted")
        return 130
    except typer.Abort:
        return 1
    except Exception as exc:
        # Usage errors from the (vendored) click layer: print the usage message, exit 2.
        show = getattr(exc, "show", None)
        if callable(show) and isinstance(getattr(exc, "exit_code", None), int):
            show(file=sys.stderr)
            return int(exc.exit_code)  # type: ignore[attr-defined]
        raise
    return 0


def _entry() -> None:  # pragma: no cover - console script
    sys.exit(main())
