"""Import a package's submodules without running the package's ``__init__``.

Two dependencies put a costly ``__init__`` in front of the one module OSOP needs:
``import cel`` imports the package's interactive shell (typer, prompt_toolkit,
rich: about a third of a second of CPU), and ``import tree_sitter_bash`` imports
:mod:`importlib.resources` (tempfile, shutil, zipfile: ~8 ms) for highlight
queries OSOP never reads. Every command that reads a workflow compiles
expressions and classifies commands, so both costs would land on
``osop validate`` of the smallest file.

The package is found without being executed: its module object is put in
``sys.modules`` only while the wanted submodules are imported, then taken out
again. The submodules stay cached under their real names, so a later
``import <package>`` by anyone runs the package's ``__init__`` normally and
shares these very modules.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from types import ModuleType

__all__ = ["import_submodules"]


def import_submodules(package: str, *names: str, hint: str) -> tuple[ModuleType, ...]:
    """``package.<name>`` for each name; ImportError saying ``hint`` when it is absent."""
    if package in sys.modules:  # already imported the ordinary way
        return tuple(importlib.import_module(f"{package}.{name}") for name in names)
    spec = importlib.util.find_spec(package)
    if spec is None or spec.submodule_search_locations is None:
        raise ImportError(f"the {package!r} package is not installed ({hint})")
    bare = importlib.util.module_from_spec(spec)
    sys.modules[package] = bare
    try:
        return tuple(importlib.import_module(f"{package}.{name}") for name in names)
    finally:
        if sys.modules.get(package) is bare:
            del sys.modules[package]
