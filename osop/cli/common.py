"""Helpers shared by the CLI commands: error reporting, path expansion, output."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click

from osop.cli.paths import DOCUMENT_SUFFIXES, NoSuchPath, iter_paths
from osop.errors import OsopError, UsageError

__all__ = [
    "DOCUMENT_SUFFIXES",
    "expand_paths",
    "fail",
    "handle_errors",
    "modes_option",
    "print_json",
    "store_option",
]

P = ParamSpec("P")
R = TypeVar("R")


def fail(message: str, code: int = 1) -> None:
    """Print ``Error: message`` to stderr and exit with ``code``."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def store_option(func: Callable[P, R]) -> Callable[P, R]:
    """``--store DIR``: where runs live (default ``$OSOP_HOME`` or ``./.osop``).

    Here rather than next to the run helpers so that the commands that only read
    records (``stats``, ``diff``, ``export``) do not import the engine (~0.2 s).
    """
    return click.option(
        "--store",
        "store_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Run store folder (default: $OSOP_HOME, else ./.osop).",
    )(func)


def max_bytes_option(func: Callable[P, R]) -> Callable[P, R]:
    """``--max-bytes``: the size limit of every workflow and ``.sop`` the command reads.

    The limit is put in force for the whole command (see
    :func:`osop.format.loader.size_limit`), so documents read deep inside a
    library verb — a workflow a run resumes, the files a ``.sop`` refers to —
    are held to it too. Records have their own, larger limit.
    """

    def apply(ctx: click.Context, _param: click.Parameter, value: int) -> int:
        from osop.format.loader import size_limit

        ctx.with_resource(size_limit(value))
        return value

    option = click.option(
        "--max-bytes",
        type=click.IntRange(min=1),
        default=1_000_000,  # DEFAULT_MAX_BYTES, kept literal: importing the loader costs start-up
        show_default=True,
        expose_value=False,
        callback=apply,
        help="Refuse workflow and .sop documents larger than this many bytes.",
    )
    return option(func)


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn library errors into ``Error: ...`` + exit 1, and Ctrl-C into exit 130."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except UsageError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(2)
        except OsopError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(1)
        except BrokenPipeError:  # `osop ... | head`: not an error of ours
            sys.stderr.close()
            sys.exit(0)

    return wrapper


def expand_paths(
    items: Iterable[str], suffixes: tuple[str, ...] = DOCUMENT_SUFFIXES
) -> Iterator[Path | str]:
    """Files as given, folders searched recursively for ``suffixes``, globs expanded.

    ``-`` is passed through (stdin).  A pattern or path that matches nothing raises
    :class:`click.UsageError` so that a typo is never a silent success.
    """
    try:
        yield from iter_paths(items, suffixes)
    except NoSuchPath as exc:
        raise click.UsageError(str(exc)) from None


def print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def modes_option(func: Callable[P, R]) -> Callable[P, R]:
    """``--mode``: which records an analysis uses (live by default; repeatable or a list)."""
    return click.option(
        "--mode",
        "modes",
        multiple=True,
        metavar="MODE",
        help="Use records of these run modes: live (the default), simulated, dry_run, "
        "or all; repeat the option or separate with commas.",
    )(func)
