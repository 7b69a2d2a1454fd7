"""The ``cel`` package's compiled engine and its stdlib, without its interactive shell.

``import cel`` runs the package's ``__init__``, which imports ``cel.cli`` — typer,
prompt_toolkit, rich and pygments, about a third of a second of CPU — for a REPL
OSOP never uses: the two submodules we need (``cel.cel``, the Rust extension,
and ``cel.stdlib``) are imported without it (see :mod:`osop._submodules`).
"""

from __future__ import annotations

from typing import Any

from osop._submodules import import_submodules

__all__ = ["engine", "stdlib_functions"]

_extension, _stdlib = import_submodules(
    "cel", "cel", "stdlib", hint="pip install common-expression-language"
)

#: the Rust extension: ``compile``, ``Context``, ``OptionalValue``, ``evaluate``
engine: Any = _extension
#: the package's pure-Python functions (``charAt``, ``math.abs``, ...), by CEL name
stdlib_functions: dict[str, Any] = dict(_stdlib.STDLIB_FUNCTIONS)
