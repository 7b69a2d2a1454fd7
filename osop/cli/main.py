"""The ``osop`` command's entry point (the ``osop`` script and ``python -m osop``).

``osop --version`` is answered here, before the command framework (click, ~40 ms
of CPU) is imported: start-up is the whole cost of that command. Everything else
goes to the click group in :mod:`osop.cli.app`; ``cli`` and ``COMMANDS`` are
re-exported from it on first access.
"""

from __future__ import annotations

import sys

from osop import __version__

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

    from osop.cli.app import COMMANDS, cli

__all__ = ["COMMANDS", "cli", "main"]

_VERSION_FLAGS = (["--version"], ["-V"])


def main(argv: list[str] | None = None) -> Any:
    """Run the command line (``argv`` defaults to ``sys.argv[1:]``)."""
    if (sys.argv[1:] if argv is None else argv) in _VERSION_FLAGS:
        # The same text and exit status as click's version option.
        sys.stdout.write(f"osop, version {__version__}\n")
        sys.exit(0)
    from osop.cli.app import run

    return run(argv)


def __getattr__(name: str) -> Any:
    if name in ("cli", "COMMANDS"):
        from osop.cli import app

        return getattr(app, name)
    raise AttributeError(f"module 'osop.cli.main' has no attribute {name!r}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
