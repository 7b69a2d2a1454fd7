"""Helpers shared by the CLI commands: error reporting, path expansion, output."""

from __future__ import annotations

import glob
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click

from osop.errors import OsopError, UsageError

__all__ = ["expand_paths", "fail", "handle_errors", "modes_option", "print_json"]

P = ParamSpec("P")
R = TypeVar("R")

#: File name endings OSOP documents use (for folder expansion).
DOCUMENT_SUFFIXES = (
    ".osop",
    ".osop.yaml",
    ".osop.yml",
    ".osop.json",
    ".osoplog",
    ".osoplog.yaml",
    ".osoplog.yml",
    ".osoplog.json",
    ".sop",
)


def fail(message: str, code: int = 1) -> None:
    """Print ``Error: message`` to stderr and exit with ``code``."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


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
    for item in items:
        if item == "-":
            yield item
            continue
        path = Path(item)
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and p.name.lower().endswith(suffixes)
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            yield from found
        elif path.exists():
            yield path
        elif any(ch in item for ch in "*?["):
            matches = sorted(glob.glob(item, recursive=True))
            if not matches:
                raise click.UsageError(f"no file matches {item!r}")
            yield from (Path(m) for m in matches if Path(m).is_file())
        else:
            raise click.UsageError(f"no such file or folder: {item}")


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
