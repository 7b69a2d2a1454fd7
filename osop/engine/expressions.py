"""The engine's view of expressions: compile once per run, look up references.

CEL compilation, the OSOP functions and ``${...}`` interpolation belong to
:mod:`osop.expr`; the scheduler decides WHAT an expression sees.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from osop.errors import MissingReferenceError
from osop.expr import compile_expression, interpolate

__all__ = ["Compiled", "ExpressionCache", "interpolate_value", "lookup_path"]


class Compiled(Protocol):
    def evaluate(
        self, variables: Mapping[str, Any], functions: Mapping[str, Callable[..., Any]]
    ) -> Any: ...


_OUTPUT_REF = re.compile(r"\boutputs\s*\.\s*([A-Za-z_][A-Za-z0-9_-]*)")
_OUTPUTS_WORD = re.compile(r"\boutputs\b")


class ExpressionCache:
    """Compiled programs keyed by source text (each expression is compiled once per run)."""

    def __init__(self) -> None:
        self._programs: dict[str, Compiled] = {}
        self._output_refs: dict[str, tuple[str, ...] | None] = {}

    def compile(self, source: str) -> Compiled:
        program = self._programs.get(source)
        if program is None:
            # Word operators (AND, or) are read as CEL's symbols, as the validator
            # promises with its cel/legacy-operator warning.
            program = self._programs[source] = compile_expression(source, legacy=True)
        return program

    def output_refs(self, source: str) -> tuple[str, ...] | None:
        """Node ids named as ``outputs.<id>``; ``None`` when ``outputs`` is used otherwise.

        Lets the engine hand an expression only the outputs it reads, so that an
        edge condition costs the same in a 10-node and a 10,000-node run.
        """
        if source not in self._output_refs:
            named = tuple(dict.fromkeys(_OUTPUT_REF.findall(source)))
            bare = len(_OUTPUTS_WORD.findall(source))
            self._output_refs[source] = named if bare == len(_OUTPUT_REF.findall(source)) else None
        return self._output_refs[source]


def lookup_path(root: Mapping[str, Any], reference: str) -> Any:
    """``outputs.build.artifact`` → the value; :class:`MissingReferenceError` naming it when absent."""
    current: Any = root
    for part in reference.split("."):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            raise MissingReferenceError(reference)
    return current


_PLACEHOLDER = re.compile(r"\$\{\s*([^{}]+?)\s*\}")


def interpolate_value(value: Any, resolve: Callable[[str], Any]) -> Any:
    """Resolve every ``${...}`` in ``value`` (deeply) through ``resolve``."""
    return interpolate(value, resolve)
