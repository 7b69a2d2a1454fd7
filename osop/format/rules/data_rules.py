"""Rules about declared data and what a run would refuse: contract schemas, port
types, nodes that no edge touches, commands that are blocked whatever happens."""

from __future__ import annotations

from collections.abc import Iterator

from osop.diagnostics import Issue, join_pointer
from osop.format.contracts import contracts_of, inline_contract
from osop.format.ports import ports_of
from osop.format.workflow import Workflow
from osop.security.preflight import blocked_commands

__all__ = ["check"]


def check(wf: Workflow) -> Iterator[Issue]:
    yield from _contract_schemas(wf)
    yield from _port_schemas(wf)
    yield from _isolated_nodes(wf)
    yield from _blocked(wf)


def _contract_schemas(wf: Workflow) -> Iterator[Issue]:
    """A contract the engine cannot check would silently let any data through."""
    contracts = list(contracts_of(wf).values())
    contracts += [c for e in wf.edges if (c := inline_contract(wf, e)) is not None]
    for contract in contracts:
        if contract.problem is None or contract.problem_rule is None:
            continue
        message, pointer = contract.problem
        yield Issue(
            "error",
            contract.problem_rule,
            f"contract {contract.name!r}: {message}",
            pointer=pointer or contract.pointer,
        )


def _port_schemas(wf: Workflow) -> Iterator[Issue]:
    """Declared input/output types the engine cannot enforce (they are not checked)."""
    blocks = [("workflow input {}", wf.inputs, "/inputs")]
    blocks += [
        (f"output {{}} of node {n.id!r}", n.outputs, join_pointer(n.pointer, "outputs"))
        for n in wf.nodes
    ]
    for what, spec, pointer in blocks:
        for port in ports_of(spec, pointer, required_by_default=False):
            if port.problem is None:
                continue
            message, where = port.problem
            yield Issue(
                "warning",
                "port/invalid-schema",
                f"{what.format(repr(port.name))}: {message}; it is not checked at run time",
                pointer=where,
            )


def _isolated_nodes(wf: Workflow) -> Iterator[Issue]:
    """In a multi-node workflow, a node no edge touches runs on its own, in parallel
    with everything: almost always a forgotten edge."""
    if len(wf.nodes) < 2 or "edges" not in wf.raw:
        return  # no `edges` at all is workflow/missing-edges, reported once
    touched: set[str] = set()
    for edge in wf.edges:
        touched.add(edge.source)
        touched.update(edge.targets)
    for node in wf.nodes:
        if node.id not in touched:
            yield Issue(
                "warning",
                "graph/isolated-node",
                f"node {node.id!r} has no edges: it starts with the run and nothing follows it",
                pointer=node.pointer,
            )


def _blocked(wf: Workflow) -> Iterator[Issue]:
    for found in blocked_commands(wf):
        yield Issue(
            "warning",
            "security/blocked-command",
            f"node {found.node_id!r} runs a command that is refused whatever anybody "
            f"approves ({found.reason}); a live run will not start",
            pointer=found.pointer,
        )
