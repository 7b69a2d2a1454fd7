"""CEL checks for edge conditions: syntax (with hints) and references (with did-you-mean).

In an edge's ``when``, a bare identifier is the source node's output of that name,
then a workflow input or variable (GUIDE §3).  What is not CEL at all is an error;
a name we cannot find among declared outputs/inputs is only a warning, because
many real nodes do not declare their outputs.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from osop.diagnostics import Issue
from osop.errors import ExpressionError
from osop.expr import compile_expression, referenced_names
from osop.expr.legacy import modernise_operators
from osop.format.workflow import Edge, Workflow

__all__ = ["check_expression"]

#: Top-level names an edge condition may use besides bare output names.
NAMESPACES = ("inputs", "outputs", "variables", "loop", "event", "metadata", "env", "error")


def _suggest(name: str, choices: list[str]) -> str | None:
    match = difflib.get_close_matches(name, choices, n=1, cutoff=0.7)
    return f"did you mean {match[0]!r}?" if match else None


def check_expression(wf: Workflow, edge: Edge, source: str, pointer: str) -> Iterator[Issue]:
    modern, changes = modernise_operators(source)
    if changes:
        yield Issue(
            "warning",
            "cel/legacy-operator",
            f"`{source}` uses word operators ({', '.join(changes)}); read as `{modern}`",
            pointer=pointer,
            hint="osop migrate rewrites them",
        )
        source = modern
    try:
        compile_expression(source)
    except ExpressionError as exc:
        yield Issue(
            "error",
            "cel/syntax",
            f"`{source}` is not a valid CEL expression: {exc.message}",
            pointer=pointer,
            hint=exc.hint,
        )
        return
    if edge.mode == "switch":
        return  # a switch `when` is a value, resolved the same way; nothing extra to check
    source_node = wf.node(edge.source) if wf.has_node(edge.source) else None
    source_outputs = list(source_node.declared_outputs) if source_node else []
    inputs = list(wf.declared_inputs) + list(wf.variables)
    loop_vars = list(wf.loop_variables)
    for ref in referenced_names(source):
        if ref.guarded:
            continue
        root = ref.root
        if root == "outputs":
            yield from _check_outputs_ref(wf, ref.path, pointer)
        elif root == "inputs":
            if len(ref.path) > 1 and inputs and ref.path[1] not in inputs:
                yield Issue(
                    "warning",
                    "cel/unknown-reference",
                    f"`inputs.{ref.path[1]}` is not a declared workflow input",
                    pointer=pointer,
                    hint=_suggest(ref.path[1], inputs),
                )
        elif root == "loop":
            if len(ref.path) > 1 and ref.path[1] not in [*loop_vars, "index", "iteration"]:
                yield Issue(
                    "warning",
                    "cel/unknown-reference",
                    f"`loop.{ref.path[1]}` is not the iterator_var of any loop edge",
                    pointer=pointer,
                    hint=_suggest(ref.path[1], loop_vars),
                )
        elif root in NAMESPACES or root in source_outputs or root in inputs:
            continue
        elif source_outputs or inputs:
            known = source_outputs + inputs
            yield Issue(
                "warning",
                "cel/unknown-reference",
                f"`{root}` is neither an output of {edge.source!r} "
                f"({', '.join(source_outputs) or 'none declared'}) nor a workflow input",
                pointer=pointer,
                hint=_suggest(root, known),
            )
        else:
            yield Issue(
                "warning",
                "cel/undeclared-reference",
                f"`{root}` is read as an output of {edge.source!r}, which declares no outputs",
                pointer=pointer,
            )


def _check_outputs_ref(wf: Workflow, path: tuple[str, ...], pointer: str) -> Iterator[Issue]:
    if len(path) < 2:
        return
    node_id = path[1]
    if not wf.has_node(node_id):
        yield Issue(
            "warning",
            "cel/unknown-reference",
            f"`outputs.{node_id}`: there is no node {node_id!r}",
            pointer=pointer,
            hint=_suggest(node_id, [n.id for n in wf.nodes]),
        )
        return
    declared = list(wf.node(node_id).declared_outputs)
    if len(path) > 2 and declared and path[2] not in declared:
        yield Issue(
            "warning",
            "cel/unknown-reference",
            f"`outputs.{node_id}.{path[2]}` is not a declared output of {node_id!r} "
            f"({', '.join(declared)})",
            pointer=pointer,
            hint=_suggest(path[2], declared),
        )
