"""A run's data checks: edge contracts and declared output types, compiled once per run.

When an attempt completes, its outputs are checked against

* the declared type of each of the node's ``outputs`` that is present (an
  output is required only when its declaration says so), and
* the schema of every contract on an edge out of the node that carries its
  data on success (every mode but ``fallback``, ``error``, ``timeout`` and
  ``compensation``, which carry a failure) — before ``when`` is evaluated:
  the contract is what the source promises on that edge, and a violation must
  fail the attempt that produced the data, so that its retry policy applies.

A violation fails the attempt with ``CONTRACT_VIOLATION``; the message names
the contract (or output), the field as a JSON pointer and the broken keyword.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from osop.format.contracts import SchemaCheck, edge_contracts
from osop.format.ports import ports_of
from osop.format.workflow import Workflow

__all__ = ["CONTRACT_VIOLATION", "DataChecks"]

CONTRACT_VIOLATION: Final = "CONTRACT_VIOLATION"
_FAILURE_MODES: Final = frozenset({"fallback", "error", "timeout", "compensation"})


@dataclass(frozen=True, slots=True)
class _OutputCheck:
    name: str
    required: bool
    check: SchemaCheck | None


@dataclass(frozen=True, slots=True)
class _ContractCheck:
    label: str
    check: SchemaCheck


class DataChecks:
    """Every schema a workflow's outputs must follow, compiled once per run."""

    def __init__(self, workflow: Workflow) -> None:
        self._outputs: dict[str, list[_OutputCheck]] = {}
        self._contracts: dict[str, list[_ContractCheck]] = {}
        compiled: dict[str, SchemaCheck] = {}  # one compiled validator per distinct schema

        def compile_once(schema: Mapping[str, Any] | bool) -> SchemaCheck:
            try:
                key = json.dumps(schema, sort_keys=True)
            except (TypeError, ValueError):
                key = f"id:{id(schema)}"
            if key not in compiled:
                compiled[key] = SchemaCheck(schema)
            return compiled[key]

        for node in workflow.nodes:
            if not node.outputs:
                continue  # nothing declared (None, {}, []): no port, nothing to check
            checks = [
                _OutputCheck(p.name, p.required, compile_once(p.schema) if p.schema else None)
                for p in ports_of(node.outputs, node.pointer, required_by_default=False)
            ]
            checks = [c for c in checks if c.required or c.check is not None]
            if checks:
                self._outputs[node.id] = checks
        edges = {e.index: e for e in workflow.edges}
        for index, contracts in edge_contracts(workflow).items():
            edge = edges[index]
            if edge.mode in _FAILURE_MODES:
                continue
            seen = self._contracts.setdefault(edge.source, [])
            for contract in contracts:
                assert contract.schema is not None  # edge_contracts keeps usable ones only
                label = f"contract {contract.name!r} on edge {edge.source} -> {edge.target}"
                seen.append(_ContractCheck(label, compile_once(contract.schema)))

    def __bool__(self) -> bool:
        return bool(self._outputs or self._contracts)

    def violation(self, node_id: str, outputs: Mapping[str, Any]) -> str | None:
        """What is wrong with ``outputs`` of ``node_id`` (the first problem), or ``None``."""
        for output in self._outputs.get(node_id, ()):
            if output.name not in outputs:
                if output.required:
                    return f"output {output.name!r} of node {node_id!r} is missing (required)"
                continue
            if output.check is not None:
                found = output.check.violation(outputs[output.name])
                if found is not None:
                    return found.describe(f"output {output.name!r} of node {node_id!r}")
        checked: set[int] = set()
        for contract in self._contracts.get(node_id, ()):
            if id(contract.check) in checked:
                continue  # the same contract on two edges: one check, one message
            checked.add(id(contract.check))
            found = contract.check.violation(dict(outputs))
            if found is not None:
                return found.describe(f"{contract.label}: outputs")
        return None
