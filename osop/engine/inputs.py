"""Workflow inputs, checked before a run starts (seed 002 §3, §17).

Each declared input (any shape :func:`osop.format.ports.ports_of` reads) is
checked against its schema — ``type``, ``enum``, ``pattern`` and every other
JSON Schema keyword — and a missing one takes its ``default``, once, here: the
run records the completed inputs and a resumed run reads them back.  A
missing input without a default is required unless it says ``required:
false`` (in the JSON Schema object shape, its ``required`` list decides).
Inputs the workflow does not declare are passed through unchecked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from osop.errors import RunRefusedError
from osop.format.contracts import SchemaCheck
from osop.format.ports import ports_of
from osop.format.workflow import Workflow

__all__ = ["check_inputs"]

_HOW = "give it with --input NAME=VALUE or --inputs-file"


def _example(spec: Any) -> tuple[bool, Any]:
    if not isinstance(spec, Mapping):
        return False, None
    if "example" in spec:
        return True, spec["example"]
    examples = spec.get("examples")
    if isinstance(examples, list) and examples:
        return True, examples[0]
    return False, None


def _declaration(workflow: Workflow, pointer: str) -> Any:
    current: Any = workflow.raw
    for token in pointer.strip("/").split("/"):
        if isinstance(current, Mapping):
            current = current.get(token.replace("~1", "/").replace("~0", "~"))
        elif isinstance(current, list) and token.isdigit() and int(token) < len(current):
            current = current[int(token)]
        else:
            return None
    return current


def check_inputs(
    workflow: Workflow, given: Mapping[str, Any], *, rehearsal: bool = False
) -> dict[str, Any]:
    """``given`` completed with the declared defaults, after checking every input.

    ``rehearsal`` (dry and simulated runs): a missing required input that
    declares an ``example`` (or ``examples``) takes it, so a process can be
    rehearsed as written; a live run never runs on an example.

    Raises :class:`~osop.errors.RunRefusedError` naming each input and the rule
    it breaks (``required``, ``type``, ``enum``, ``pattern`` ...).
    """
    out = dict(given)
    problems: list[str] = []
    for port in ports_of(workflow.inputs, "/inputs", required_by_default=True):
        if port.name in out:
            value, origin = out[port.name], "input"
        elif port.has_default:
            value, origin = port.default, "default of input"
            out[port.name] = value
        else:
            found, example = _example(_declaration(workflow, port.pointer))
            if rehearsal and found:
                value, origin = example, "example of input"
                out[port.name] = value
            elif port.required:
                problems.append(f"input {port.name!r} is missing (required): {_HOW}")
                continue
            else:
                continue
        if port.schema is None:
            continue  # prose or an invalid schema (osop validate reports port/invalid-schema)
        violation = SchemaCheck(port.schema).violation(value)
        if violation is not None:
            problems.append(violation.describe(f"{origin} {port.name!r}"))
    if problems:
        raise RunRefusedError(
            f"workflow {workflow.id!r}: the inputs are not valid; nothing was run", problems
        )
    return out
