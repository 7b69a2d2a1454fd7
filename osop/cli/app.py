"""The ``osop`` command group (click): a thin layer over the library.

:mod:`osop.cli.main` is the entry point and holds the command table
(:data:`~osop.cli.main.COMMANDS`); it loads this module for anything but
``--version``. Commands live one per module under :mod:`osop.cli` and are
imported lazily, so no command pays for another's dependencies.
Library errors (:class:`~osop.errors.OsopError`) become ``Error: ...`` on stderr
with exit code 1 (2 for usage errors) — never a traceback.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from typing import Any

import click

from osop import __version__
from osop.cli.main import COMMANDS, end_startup

__all__ = ["COMMANDS", "LazyGroup", "cli", "run"]


class LazyGroup(click.Group):
    """A group whose commands are imported only when used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module = importlib.import_module(entry[0])
        end_startup()  # imports done: the command runs with the collector on
        command = getattr(module, entry[1])
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_text) for name, (_, _, help_text) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="osop")
def cli() -> None:
    """OSOP: define, run, record, compare and improve processes.

    \b
    Formats: .osop (a process), .osoplog (one run's record), .sop (a collection).
    Run `osop COMMAND --help` for the options of a command.
    """


def run(argv: list[str] | None = None) -> Any:
    """Run the command line (``argv`` defaults to ``sys.argv[1:]``)."""
    try:
        return cli.main(args=argv, prog_name="osop")
    except SystemExit as exc:
        _leave_after_temporal(exc)
        raise


def _leave_after_temporal(exc: SystemExit) -> None:
    """After a command that talked to Temporal, exit without interpreter teardown.

    The Temporal SDK's native threads may still call into Python while the
    interpreter finalises, which aborts the process (temporalio/sdk-python#300) and
    would turn a clean exit code into SIGABRT.  Output is flushed first.
    """
    connection = sys.modules.get("osop.temporal.connection")
    if connection is None or not getattr(connection, "CLIENT_CREATED", False):
        return
    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    if exc.code is not None and not isinstance(exc.code, int):
        print(exc.code, file=sys.stderr)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)
