"""Message contracts (seed 002 §5.1, §6): which schema the data on each edge follows.

``contracts`` and ``message_contracts`` are one mapping (contract id → contract;
the list form of ``message_contracts`` is keyed by each item's ``id``).  A
contract's schema is its ``schema`` (JSON Schema draft 2020-12), or the schema
its ``schema_ref`` points at in the same document (``#/schemas/TaskSpec``), or —
when it has neither — the contract itself if it is written as a schema
(``{type: object, properties: ...}``).

An edge follows a contract when it names one (``contract: build-output``),
carries one inline (``contract: {schema: ...}``), or when a message contract
names the edge's ends (``producer: planner``, ``consumer: executor``; a
producer alone covers every edge out of it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from osop.diagnostics import escape_pointer_token, join_pointer
from osop.format.ports import schema_problem
from osop.format.workflow import Edge, Workflow

if TYPE_CHECKING:  # imported when a value breaks a schema: valid data never needs it
    from jsonschema import Draft202012Validator

__all__ = ["Contract", "SchemaCheck", "Violation", "contracts_of", "edge_contracts"]

_SCHEMA_WORDS = frozenset({"type", "properties", "required", "$ref", "allOf", "anyOf", "oneOf"})


@dataclass(frozen=True, slots=True)
class Contract:
    """One contract, with where its schema is written (for the validator)."""

    name: str
    #: The JSON Schema; ``None`` when the contract declares none.
    schema: Mapping[str, Any] | bool | None
    #: JSON pointer of the contract, and of its schema.
    pointer: str
    schema_pointer: str
    producer: str | None = None
    consumer: str | None = None
    #: ``(message, pointer)`` when the schema cannot be used.
    problem: tuple[str, str] | None = None
    #: The rule id of ``problem`` (``contract/invalid-schema``, ``contract/unresolved-schema-ref``).
    problem_rule: str | None = None


def _resolve_local(document: Mapping[str, Any], ref: str) -> Any:
    """``#/schemas/TaskSpec`` inside ``document``; ``None`` when it leads nowhere."""
    if not ref.startswith("#/"):
        return None
    current: Any = document
    for token in ref[2:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(current, Mapping) and token in current:
            current = current[token]
        elif isinstance(current, list) and token.isdigit() and int(token) < len(current):
            current = current[int(token)]
        else:
            return None
    return current


def _contract(name: str, spec: Any, pointer: str, document: Mapping[str, Any]) -> Contract:
    if not isinstance(spec, Mapping):
        return Contract(name, None, pointer, pointer)
    producer = spec.get("producer") if isinstance(spec.get("producer"), str) else None
    consumer = spec.get("consumer") if isinstance(spec.get("consumer"), str) else None
    schema: Any = None
    schema_pointer = pointer
    if "schema" in spec and isinstance(spec["schema"], Mapping | bool):
        schema, schema_pointer = spec["schema"], join_pointer(pointer, "schema")
    elif isinstance(spec.get("schema_ref"), str):
        ref = spec["schema_ref"]
        schema = _resolve_local(document, ref)
        if not isinstance(schema, Mapping | bool):
            return Contract(
                name,
                None,
                pointer,
                pointer,
                producer,
                consumer,
                (f"schema_ref {ref!r} points at no schema in this document", ""),
                "contract/unresolved-schema-ref",
            )
        schema_pointer = ref[1:]
    elif _SCHEMA_WORDS & set(spec):
        schema = {k: v for k, v in spec.items() if k not in ("producer", "consumer", "id")}
    if schema is None:
        return Contract(name, None, pointer, pointer, producer, consumer)
    problem = schema_problem(schema)
    if problem is not None:
        message, inner = problem
        return Contract(
            name,
            None,
            pointer,
            schema_pointer,
            producer,
            consumer,
            (message, schema_pointer + inner),
            "contract/invalid-schema",
        )
    return Contract(name, schema, pointer, schema_pointer, producer, consumer)


def contracts_of(wf: Workflow) -> dict[str, Contract]:
    """Every named contract of ``wf`` (``contracts`` wins over ``message_contracts``)."""
    out: dict[str, Contract] = {}
    raw = wf.raw
    sources: list[tuple[str, Any]] = [("/contracts", raw.get("contracts"))]
    sources.append(("/message_contracts", raw.get("message_contracts")))
    for base, block in sources:
        if isinstance(block, Mapping):
            for name, spec in block.items():
                if str(name).startswith("x-") or str(name) in out:
                    continue
                pointer = base + "/" + escape_pointer_token(str(name))
                out[str(name)] = _contract(str(name), spec, pointer, raw)
        elif isinstance(block, list):
            for index, spec in enumerate(block):
                if isinstance(spec, Mapping) and isinstance(spec.get("id"), str):
                    name = spec["id"]
                    if name not in out:
                        out[name] = _contract(name, spec, join_pointer(base, index), raw)
    return out


def inline_contract(wf: Workflow, edge: Edge) -> Contract | None:
    if edge.contract_inline is None:
        return None
    name = f"{edge.source}->{edge.target}"
    return _contract(name, edge.contract_inline, join_pointer(edge.pointer, "contract"), wf.raw)


def edge_contracts(wf: Workflow) -> dict[int, list[Contract]]:
    """Edge index → the contracts its data follows (only those with a usable schema)."""
    named = contracts_of(wf)
    by_ends = [c for c in named.values() if c.producer]
    out: dict[int, list[Contract]] = {}
    for edge in wf.edges:
        found: list[Contract] = []
        if edge.contract and edge.contract in named:
            found.append(named[edge.contract])
        inline = inline_contract(wf, edge)
        if inline is not None:
            found.append(inline)
        for contract in by_ends:
            ends = contract.producer == edge.source and contract.consumer in (None, edge.target)
            if ends and contract not in found:
                found.append(contract)
        usable = [c for c in found if c.schema is not None]
        if usable:
            out[edge.index] = usable
    return out


@dataclass(frozen=True, slots=True)
class Violation:
    """Where data breaks a schema: the field (JSON pointer), the keyword, the message."""

    pointer: str
    keyword: str
    message: str

    def describe(self, root: str) -> str:
        field = root + self.pointer if self.pointer else root
        return f"{field}: {self.message} ({self.keyword})"


class SchemaCheck:
    """One schema, compiled once: the Rust validator answers yes/no; when the answer
    is no, the Python validator says precisely which field breaks which keyword."""

    def __init__(self, schema: Mapping[str, Any] | bool) -> None:
        self.schema = schema

    @cached_property
    def _fast(self) -> Any:
        import jsonschema_rs

        try:
            schema = dict(self.schema) if isinstance(self.schema, Mapping) else self.schema
            return jsonschema_rs.validator_for(schema)
        except Exception:  # a schema the Rust engine cannot compile: use the precise one only
            return None

    @cached_property
    def _precise(self) -> Draft202012Validator:
        from jsonschema import Draft202012Validator

        return Draft202012Validator(self.schema)

    def violation(self, instance: Any) -> Violation | None:
        fast = self._fast
        if fast is not None:
            try:
                if fast.is_valid(instance):
                    return None
            except Exception:  # a value the Rust engine cannot take (not JSON): be thorough
                pass
        from jsonschema.exceptions import best_match

        error = best_match(self._precise.iter_errors(instance))
        if error is None:
            return None
        pointer = "".join("/" + escape_pointer_token(str(p)) for p in error.absolute_path)
        return Violation(pointer, str(error.validator), error.message)
