"""The ``cel`` package's compiled engine and its stdlib, without its interactive shell.

``import cel`` runs the package's ``__init__``, which imports ``cel.cli`` — typer,
prompt_toolkit, rich and pygments, about a third of a second of CPU — for a REPL
OSOP never uses. Every command that reads a workflow compiles expressions, so
that cost would land on ``osop validate`` of the smallest file.

Here the package is found without being executed: its module object is put in
``sys.modules`` only while the two submodules we need (``cel.cel``, the Rust
extension, and ``cel.stdlib``) are imported, then taken out again. Both stay
cached under their real names, so a later ``import cel`` by anyone runs the
package's ``__init__`` normally and shares these very modules.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from types import ModuleType
from typing import Any

__all__ = ["engine", "stdlib_functions"]


def _load() -> tuple[ModuleType, ModuleType]:
    package = sys.modules.get("cel")
    if package is not None:  # already imported the ordinary way
        return importlib.import_module("cel.cel"), importlib.import_module("cel.stdlib")
    spec = importlib.util.find_spec("cel")
    if spec is None or spec.submodule_search_locations is None:
        raise ImportError(
            "the 'cel' package is not installed (pip install common-expression-language)"
        )
    shell = importlib.util.module_from_spec(spec)
    sys.modules["cel"] = shell
    try:
        extension = importlib.import_module("cel.cel")
        stdlib = importlib.import_module("cel.stdlib")
    finally:
        if sys.modules.get("cel") is shell:
            del sys.modules["cel"]
    return extension, stdlib


_extension, _stdlib = _load()

#: the Rust extension: ``compile``, ``Context``, ``OptionalValue``, ``evaluate``
engine: Any = _extension
#: the package's pure-Python functions (``charAt``, ``math.abs``, ...), by CEL name
stdlib_functions: dict[str, Any] = dict(_stdlib.STDLIB_FUNCTIONS)
