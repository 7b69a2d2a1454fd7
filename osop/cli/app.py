"""The ``osop`` command group (click): a thin layer over the library.

:mod:`osop.cli.main` is the entry point and holds the command table
(:data:`~osop.cli.main.COMMANDS`); it loads this module for anything but
``--version``. Commands live one per module under :mod:`osop.cli` and are
imported lazily, so no command pays for another's dependencies.
Library errors (:class:`~osop.errors.OsopError`) become ``Error: ...`` on stderr
with exit code 1 (2 for usage errors) — never a traceback.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from osop import __version__
from osop.cli.main import COMMANDS

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
    return cli.main(args=argv, prog_name="osop")
