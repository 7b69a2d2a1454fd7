"""CEL checks for edge conditions: syntax (with hints) and references (with did-you-mean).

Names are judged by the rules the engine evaluates with (:mod:`osop.expr.scope`):
namespaces first, then a bare name is the source node's output, a workflow
input, a workflow variable, a node id (GUIDE §3).  What is not CEL at all, and
``secrets`` (which no expression can read), is an error; a name we cannot find
among declared outputs/inputs is a warning, because many real nodes do not
declare their outputs.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from typing import Any

from osop.diagnostics import Issue, join_pointer
from osop.errors import ExpressionError
from osop.expr import compile_expression, referenced_names
from osop.expr.legacy import modernise_operators
from osop.expr.scope import EXPRESSION_NAMESPACES, METADATA_FIELDS
from osop.format.workflow import Edge, Node, Workflow

__all__ = ["check_expression", "check_node_expressions"]


def _suggest(name: str, choices: list[str]) -> str | None:
    match = difflib.get_close_matches(name, choices, n=1, cutoff=0.7)
    return f"did you mean {match[0]!r}?" if match else None


def check_expression(wf: Workflow, edge: Edge, source: str, pointer: str) -> Iterator[Issue]:
    """An edge's ``when`` / ``for_each``: bare names are the source's outputs first."""
    source_node = wf.node(edge.source) if wf.has_node(edge.source) else None
    own = list(source_node.declared_outputs) if source_node else []
    # On event/signal edges the bare names are the event's data: unknown until it arrives.
    known = None if edge.mode in ("event", "signal") else bool(own)
    yield from _check(wf, source, pointer, own, known, f"an output of {edge.source!r}")


def check_node_expressions(wf: Workflow, node: Node) -> Iterator[Issue]:
    """The CEL a node evaluates itself (``data`` transforms, a ``gateway`` expression).

    Its bare names are the node's inputs (declared, mapped, or passed by dataflow
    edges), as the executor's scope has them.
    """
    runtime = node.runtime
    found: list[tuple[tuple[str | int, ...], Any, tuple[str, ...]]] = []
    if node.type == "gateway":
        found.append((("expression",), runtime.get("expression"), ()))
    elif node.type == "data":
        operation = runtime.get("operation")
        for key in ("source", "items", "where", "condition", "expression", "select"):
            item: tuple[str, ...] = ("item",) if key not in ("source", "items") else ()
            found.append(((key,), runtime.get(key), item))
        sources = runtime.get("sources")
        if isinstance(sources, list):
            found += [(("sources", i), text, ()) for i, text in enumerate(sources)]
        mapping = runtime.get("mapping")
        if isinstance(mapping, Mapping):
            bound: tuple[str, ...] = ("result",) if operation is not None else ()
            found += [(("mapping", str(key)), text, bound) for key, text in mapping.items()]
    if not found:
        return
    own, known = _node_inputs(wf, node)
    base = join_pointer(node.pointer, "runtime")
    for path, text, names in found:
        if not isinstance(text, str) or "${" in text:
            continue  # data, or interpolated first: judged by the ${...} checks
        # With no complete list of the node's inputs, unknown bare names are not reported.
        yield from _check(
            wf,
            text,
            join_pointer(base, *path),
            [*own, *names],
            known or None,
            f"an input of node {node.id!r}",
        )


def _node_inputs(wf: Workflow, node: Node) -> tuple[list[str], bool]:
    """A node's input names, and whether that list is complete."""
    names = list(node.declared_inputs)
    if isinstance(node.raw.get("workflow_inputs"), Mapping):
        names += [str(k) for k in node.raw["workflow_inputs"]]
    complete = True
    for edge in wf.edges:
        if edge.target != node.id:
            continue
        if edge.mode == "message":
            names.append("message")
        elif edge.mode == "spawn":
            names.append("parent")
        elif edge.mode == "dataflow":
            if isinstance(edge.transform, Mapping):
                names += [str(k) for k in edge.transform]
            elif wf.has_node(edge.source) and wf.node(edge.source).declared_outputs:
                names += wf.node(edge.source).declared_outputs
            else:
                complete = False
    return names, complete and bool(names)


def _check(
    wf: Workflow,
    source: str,
    pointer: str,
    own: list[str],
    own_known: bool | None,
    own_what: str,
) -> Iterator[Issue]:
    """Syntax, then every reference by the scope's rules.

    ``own`` are the first bare-name layer's names; ``own_known`` says whether that
    list is complete (False: nothing declared, None: unknowable, no bare-name warnings).
    """
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
    declared_inputs = list(wf.declared_inputs)
    inputs = declared_inputs + list(wf.variables)
    loop_vars = list(wf.loop_variables)
    node_ids = [n.id for n in wf.nodes]
    for ref in referenced_names(source):
        root = ref.root
        if root == "secrets":
            yield Issue(
                "error",
                "cel/secret-reference",
                f"`{ref.dotted}`: expressions cannot read secrets (a condition's inputs "
                "and results are recorded)",
                pointer=pointer,
                hint="pass the secret to a step with ${secrets.NAME} in its configuration",
            )
            continue
        if ref.guarded:
            continue
        name = ref.path[1] if len(ref.path) > 1 else None
        if root == "outputs":
            yield from _check_outputs_ref(wf, ref.path, pointer)
        elif root == "variables":
            if name is not None and name not in wf.variables:
                yield _unknown(
                    f"`variables.{name}` is not a workflow variable",
                    pointer,
                    _suggest(name, list(wf.variables)),
                )
        elif root == "metadata":
            if name is not None and name not in METADATA_FIELDS:
                yield _unknown(
                    f"`metadata.{name}` is not run metadata ({', '.join(METADATA_FIELDS)})",
                    pointer,
                    _suggest(name, list(METADATA_FIELDS)),
                )
        elif root == "inputs":
            choices = declared_inputs + own
            if name is not None and declared_inputs and name not in choices:
                yield _unknown(
                    f"`inputs.{name}` is not a declared workflow input",
                    pointer,
                    _suggest(name, choices),
                )
        elif root == "loop":
            if name is not None and name not in [*loop_vars, "index", "iteration"]:
                yield _unknown(
                    f"`loop.{name}` is not the iterator_var of any loop edge",
                    pointer,
                    _suggest(name, loop_vars),
                )
        elif root in EXPRESSION_NAMESPACES or root in own or root in inputs:
            continue
        elif root in node_ids:
            # The last bare-name layer: a node id reads that node's outputs.
            yield from _check_outputs_ref(wf, ("outputs", *ref.path), pointer)
        elif own_known is None:
            continue
        elif own_known or inputs:
            yield _unknown(
                f"`{root}` is neither {own_what} ({', '.join(own) or 'none declared'}) "
                "nor a workflow input or variable",
                pointer,
                _suggest(root, own + inputs),
            )
        else:
            yield Issue(
                "warning",
                "cel/undeclared-reference",
                f"`{root}` is read as {own_what}, and none are declared",
                pointer=pointer,
            )


def _unknown(message: str, pointer: str, hint: str | None) -> Issue:
    return Issue("warning", "cel/unknown-reference", message, pointer=pointer, hint=hint)


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
