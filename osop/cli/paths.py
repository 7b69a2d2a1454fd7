"""The files a command's PATHS name: folders searched, globs expanded (no click here).

:func:`osop.cli.common.expand_paths` is what commands use (a path that matches
nothing is a click usage error there); this module stays free of the command
framework so that the plain ``osop validate FILE`` (see
:mod:`osop.cli.validate_core`) can expand its paths without importing it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

__all__ = ["DOCUMENT_SUFFIXES", "NoSuchPath", "iter_paths"]

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


class NoSuchPath(Exception):
    """A path or pattern that matches nothing (the message says which)."""


def iter_paths(
    items: Iterable[str], suffixes: tuple[str, ...] = DOCUMENT_SUFFIXES
) -> Iterator[Path | str]:
    """Files as given, folders searched recursively for ``suffixes``, globs expanded.

    ``-`` is passed through (stdin).  A pattern or path that matches nothing raises
    :class:`NoSuchPath` so that a typo is never a silent success.
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
            import glob  # only patterns need it

            matches = sorted(glob.glob(item, recursive=True))
            if not matches:
                raise NoSuchPath(f"no file matches {item!r}")
            yield from (Path(m) for m in matches if Path(m).is_file())
        else:
            raise NoSuchPath(f"no such file or folder: {item}")
