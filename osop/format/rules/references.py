"""Checks of ``${...}`` interpolations in nodes: syntax, namespaces, nodes, inputs, loop variables.

References are parsed and judged by the rules the engine resolves them with
(:mod:`osop.expr.scope`), so a reference accepted here resolves at run time.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from typing import Any

from osop.diagnostics import Issue, join_pointer
from osop.errors import ExpressionError
from osop.expr import find_references, find_template_errors, parse_reference
from osop.expr.scope import INTERPOLATION_NAMESPACES, METADATA_FIELDS
from osop.format.workflow import Workflow

__all__ = ["check_interpolations"]

#: Node fields whose strings the engine interpolates (edges: a dataflow ``transform``).
_INTERPOLATED_FIELDS = ("runtime", "workflow_inputs", "inputs")


def _suggest(name: str, choices: list[str]) -> str | None:
    match = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    return f"did you mean {match[0]!r}?" if match else None


def _split(ref: str) -> list[str]:
    """``outputs.fetch.rows[0].id`` → ``["outputs", "fetch", "rows", "0", "id"]`` (the engine's parser)."""
    try:
        return [str(part) for part in parse_reference(ref)]
    except ExpressionError:
        # Malformed: reported by find_template_errors; judge what can be read.
        return [p.strip() for p in ref.replace("[", ".").replace("]", "").split(".") if p.strip()]


def _not_a_reference(ref: str, root: str, pointer: str, node_ids: list[str]) -> Issue:
    """``${NAME}`` with no OSOP namespace: left as written (a shell expands ``${VAR}``).

    A near-miss of a namespace (``${input.x}``) is an error: it is surely a typo,
    and leaving it verbatim would hand a wrong value to the step.
    """
    near = difflib.get_close_matches(root, INTERPOLATION_NAMESPACES, n=1, cutoff=0.8)
    if near:
        return Issue(
            "error",
            "ref/unknown-namespace",
            f"`${{{ref}}}`: {root!r} is not a namespace ({', '.join(INTERPOLATION_NAMESPACES)})",
            pointer=pointer,
            hint=f"did you mean {near[0]!r}?",
        )
    hint = None
    if root in node_ids:
        hint = f"to use {root!r}'s output write ${{outputs.{ref}}}"
    return Issue(
        "warning",
        "ref/not-interpolated",
        f"`${{{ref}}}` has no OSOP namespace and is left as written "
        "(in a shell command the shell expands it)",
        pointer=pointer,
        hint=hint
        or "write ${inputs.NAME}, ${env.NAME} or ${outputs.NODE.NAME} for OSOP to fill it",
    )


def check_interpolations(wf: Workflow) -> Iterator[Issue]:
    node_ids = [n.id for n in wf.nodes]
    # ``${inputs.X}`` reads the run's inputs and the node's own: variables are ``variables.X``.
    inputs = list(wf.declared_inputs)
    loop_vars = list(wf.loop_variables)
    for node in wf.nodes:
        node_inputs = list(node.declared_inputs)
        for field in _INTERPOLATED_FIELDS:
            value: Any = node.raw.get(field)
            if value is not None:
                yield from _check_value(
                    wf,
                    value,
                    join_pointer(node.pointer, field),
                    node_ids,
                    inputs + node_inputs,
                    loop_vars,
                )
    for edge in wf.edges:
        # A dataflow transform: a source output's name, or ${...} in the target's scope.
        if (
            edge.mode == "dataflow"
            and isinstance(edge.transform, Mapping)
            and wf.has_node(edge.target)
        ):
            target_inputs = list(wf.node(edge.target).declared_inputs)
            yield from _check_value(
                wf,
                dict(edge.transform),
                join_pointer(edge.pointer, "transform"),
                node_ids,
                inputs + target_inputs,
                loop_vars,
            )


def _check_value(
    wf: Workflow,
    value: Any,
    base: str,
    node_ids: list[str],
    inputs: list[str],
    loop_vars: list[str],
) -> Iterator[Issue]:
    malformed: set[str] = set()
    for location, error in find_template_errors(value):
        if error.message.startswith("empty reference"):
            continue  # ref/empty, below
        malformed.add(location)
        yield Issue(
            "error",
            "ref/malformed",
            f"{error.expression}: {error.message}",
            pointer=base + location,
            hint=error.hint,
        )
    for location, ref in find_references(value):
        if location not in malformed:
            yield from _check_one(wf, ref, base + location, node_ids, inputs, loop_vars)


def _check_one(
    wf: Workflow,
    ref: str,
    pointer: str,
    node_ids: list[str],
    inputs: list[str],
    loop_vars: list[str],
) -> Iterator[Issue]:
    parts = _split(ref)
    if not parts:
        yield Issue("error", "ref/empty", "empty interpolation `${}`", pointer=pointer)
        return
    root = parts[0]
    if root not in INTERPOLATION_NAMESPACES:
        yield _not_a_reference(ref, root, pointer, node_ids)
        return
    if len(parts) < 2:
        yield Issue(
            "error",
            "ref/incomplete",
            f"`${{{ref}}}` names a namespace but nothing in it",
            pointer=pointer,
        )
        return
    name = parts[1]
    if root == "outputs":
        if name not in node_ids:
            yield Issue(
                "error",
                "ref/unknown-node",
                f"`${{{ref}}}`: there is no node {name!r}",
                pointer=pointer,
                hint=_suggest(name, node_ids),
            )
            return
        declared = list(wf.node(name).declared_outputs)
        if len(parts) > 2 and declared and parts[2] not in declared:
            yield Issue(
                "warning",
                "ref/unknown-output",
                f"`${{{ref}}}`: {parts[2]!r} is not a declared output of {name!r} "
                f"({', '.join(declared)})",
                pointer=pointer,
                hint=_suggest(parts[2], declared),
            )
    elif root == "inputs" and inputs and name not in inputs:
        yield Issue(
            "warning",
            "ref/unknown-input",
            f"`${{{ref}}}`: {name!r} is not a declared input",
            pointer=pointer,
            hint=_suggest(name, inputs),
        )
    elif root == "variables" and name not in wf.variables:
        yield Issue(
            "warning",
            "ref/unknown-variable",
            f"`${{{ref}}}`: {name!r} is not a workflow variable",
            pointer=pointer,
            hint=_suggest(name, list(wf.variables)),
        )
    elif root == "metadata" and name not in METADATA_FIELDS:
        yield Issue(
            "warning",
            "ref/unknown-metadata",
            f"`${{{ref}}}`: {name!r} is not run metadata ({', '.join(METADATA_FIELDS)})",
            pointer=pointer,
            hint=_suggest(name, list(METADATA_FIELDS)),
        )
    elif root == "loop" and name not in [*loop_vars, "index", "iteration"]:
        yield Issue(
            "warning",
            "ref/unknown-loop-var",
            f"`${{{ref}}}`: no loop edge has iterator_var {name!r}",
            pointer=pointer,
            hint=_suggest(name, loop_vars),
        )
