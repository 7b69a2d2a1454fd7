"""The simulated executor: rehearses any node without touching the world.

What one simulated attempt does, in order:

1. Settings are ``node.raw["x-simulate"]`` overlaid with
   ``ctx.services["simulation"][node.id]`` (so a test kit can force failures
   without editing the workflow).  Keys: ``outputs``, ``duration_ms``,
   ``fail_attempts``, ``error: {code, message}``, ``status``
   (``FAILED``/``TIMED_OUT``), ``wait``, ``cost_usd``, ``ai_metadata``,
   ``human_metadata``.  An ``agent`` node without ``ai_metadata`` records
   ``provider: offline`` (no model is called in a rehearsal).
2. ``duration_ms`` (default 0: benchmarks measure the engine, not sleeps) is
   slept through ``ctx.services["sleep"]`` (default ``asyncio.sleep``).
3. ``status: FAILED`` fails every attempt; ``fail_attempts: n`` fails attempts
   1..n and succeeds afterwards; both raise ``NodeFailure`` with
   ``error.code`` (default ``SIMULATED_FAILURE``).  ``status: TIMED_OUT``
   sleeps past the node's timeout so the engine's timeout fires (and fails
   with ``TIMEOUT`` if the sleep returns anyway).
4. ``wait: true`` pauses like the real node (human → ``human`` wait, anything
   else → ``event`` wait) until an answer/event is delivered.  Otherwise a
   simulation never waits.
5. Outputs: ``outputs`` if given; otherwise, per declared output, its
   ``example``/``examples[0]``/``default``/``enum[0]``/first of
   ``"a | b | c"``, else a placeholder by declared type (string ``"<name>"``,
   number 0, boolean ``true``, list ``[]``, object ``{}``).  Human nodes
   output the delivered answer, else ``decision: approved`` (or the first of
   ``runtime.options`` when ``approved`` is not an option); event nodes output
   the delivered payload, else ``runtime.payload``.

Everything is a pure function of the node, attempt and context: two runs give
the same trace.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from osop.executors.base import NodeContext, NodeFailure, NodeResult, WaitRequest
from osop.format.limits import MAX_SIMULATED_MS

if TYPE_CHECKING:
    from osop.format.workflow import Node

__all__ = ["SimulatedExecutor", "example_outputs", "placeholder", "plain_outputs"]

Sleep = Callable[[float], Awaitable[Any]]

_TYPE_PLACEHOLDERS: Final[dict[str, Any]] = {
    "integer": 0,
    "int": 0,
    "number": 0,
    "float": 0.0,
    "double": 0.0,
    "boolean": True,
    "bool": True,
    "array": [],
    "list": [],
    "object": {},
    "dict": {},
    "map": {},
    "null": None,
    "date": "2024-01-01",
    "datetime": "2024-01-01T00:00:00Z",
    "date-time": "2024-01-01T00:00:00Z",
}


def placeholder(name: str, spec: Any) -> Any:
    """A deterministic example value for one declared output."""
    if isinstance(spec, Mapping):
        for key in ("example", "default"):
            if key in spec:
                return spec[key]
        examples = spec.get("examples")
        if isinstance(examples, list) and examples:
            return examples[0]
        enum = spec.get("enum")
        if isinstance(enum, list) and enum:
            return enum[0]
        if "schema" in spec:
            return placeholder(name, spec["schema"])
        declared = spec.get("type")
        if isinstance(declared, list):
            declared = next((t for t in declared if t != "null"), None)
        if isinstance(declared, str):
            return placeholder(name, declared)
        if isinstance(spec.get("properties"), Mapping):
            return {k: placeholder(k, v) for k, v in spec["properties"].items()}
        return f"<{name}>"
    if isinstance(spec, str):
        if "|" in spec:
            return spec.split("|")[0].strip().strip("'\"")
        key = spec.strip().lower()
        if key.endswith("[]") or key.startswith(("list[", "array[", "list<", "array<")):
            return []
        if key in _TYPE_PLACEHOLDERS:
            value = _TYPE_PLACEHOLDERS[key]
            return type(value)() if isinstance(value, list | dict) else value
        return f"<{name}>"
    return f"<{name}>"


def example_outputs(spec: Any) -> dict[str, Any]:
    """Example outputs for an ``outputs`` block in any of its real-world shapes."""
    if isinstance(spec, Mapping):
        props = spec.get("properties")
        if spec.get("type") == "object" and isinstance(props, Mapping):
            return {str(k): placeholder(str(k), v) for k, v in props.items()}
        return {
            str(k): placeholder(str(k), v) for k, v in spec.items() if not str(k).startswith("x-")
        }
    if isinstance(spec, list):
        out: dict[str, Any] = {}
        for item in spec:
            if isinstance(item, str):
                out[item] = f"<{item}>"
            elif isinstance(item, Mapping) and isinstance(item.get("name"), str):
                out[item["name"]] = placeholder(item["name"], item)
        return out
    return {}


def _settings(ctx: NodeContext) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    own = ctx.node.raw.get("x-simulate")
    if isinstance(own, Mapping):
        settings.update(own)
    overrides = ctx.services.get("simulation")
    if isinstance(overrides, Mapping):
        forced = overrides.get(ctx.node.id)
        if isinstance(forced, Mapping):
            settings.update(forced)
    return settings


#: Node types whose simulation reads more than the node: an answer, a payload, a model.
_READS_CONTEXT: Final = frozenset({"human", "event", "agent"})


def plain_outputs(node: Node, simulation: Any) -> dict[str, Any] | None:
    """The outputs of a simulated attempt of ``node`` when nothing is set for it; else None.

    Nothing set: no ``x-simulate`` key on the node, no entry for it in ``simulation``
    (``ctx.services["simulation"]``), and not a human, event or agent node.  Such an
    attempt neither sleeps, fails nor waits, and :meth:`SimulatedExecutor.execute`
    returns ``NodeResult(outputs=plain_outputs(...))`` whatever else its context
    holds: an engine may take the outputs without building that context.  None
    (anything set, whatever its value) means: ask :meth:`~SimulatedExecutor.execute`.
    """
    if node.type in _READS_CONTEXT or "x-simulate" in node.raw:
        return None
    if simulation and (type(simulation) is not dict or node.id in simulation):
        return None
    spec = node.outputs
    return {} if spec is None else example_outputs(spec)  # None: no ABC instance checks


def _human_options(ctx: NodeContext) -> list[str]:
    options = ctx.runtime.get("options")
    if isinstance(options, list):
        return [str(o) for o in options]
    return []


class SimulatedExecutor:
    """Runs every node type in ``simulated`` mode."""

    node_type = "*"

    async def execute(self, ctx: NodeContext) -> NodeResult:
        settings = _settings(ctx)
        sleep: Sleep = ctx.services.get("sleep") or asyncio.sleep
        duration_ms = settings.get("duration_ms", 0)
        if isinstance(duration_ms, int | float) and duration_ms > 0:
            # Bounded (osop.format.limits): the validator reports larger values.
            await sleep(min(duration_ms, MAX_SIMULATED_MS) / 1000)
        self._maybe_fail(ctx, settings)
        if str(settings.get("status", "")).upper() in ("TIMED_OUT", "TIMEOUT"):
            await sleep((ctx.timeout_sec or 0) + 1)
            raise NodeFailure("TIMEOUT", f"simulated timeout of node {ctx.node.id!r}")
        node_type = ctx.node.type
        if settings.get("wait") and node_type == "human" and ctx.answer is None:
            return NodeResult(wait=WaitRequest("human", ctx.node.id, prompt=ctx.node.label))
        if settings.get("wait") and node_type != "human" and ctx.delivered is None:
            name = str(ctx.runtime.get("wait_for") or ctx.runtime.get("event") or ctx.node.id)
            return NodeResult(wait=WaitRequest("event", name))
        outputs = self._outputs(ctx, settings)
        result = NodeResult(outputs=outputs, log=[f"simulated {node_type} node {ctx.node.id!r}"])
        if node_type == "human":
            decision = outputs.get("decision")
            result.human_metadata = dict(
                settings.get("human_metadata")
                or {
                    "actor": (ctx.answer or {}).get("actor", "simulator"),
                    "decision": decision,
                    "notes": outputs.get("notes", ""),
                    "response_time_ms": 0,
                }
            )
        if isinstance(settings.get("ai_metadata"), Mapping):
            result.ai_metadata = dict(settings["ai_metadata"])
        elif node_type == "agent":
            # No model is asked in a rehearsal: the record says who "answered".
            model = ctx.runtime.get("model")
            result.ai_metadata = {"provider": "offline", "model": str(model or "offline")}
            result.log.append("agent answered offline (simulated run: no model was called)")
        cost = settings.get("cost_usd")
        if isinstance(cost, int | float):
            result.cost_usd = float(cost)
        return result

    def _maybe_fail(self, ctx: NodeContext, settings: Mapping[str, Any]) -> None:
        error = settings.get("error")
        error = error if isinstance(error, Mapping) else {}
        code = str(error.get("code") or "SIMULATED_FAILURE")
        status = str(settings.get("status", "")).upper()
        fail_attempts = settings.get("fail_attempts", 0)
        if status == "FAILED":
            message = str(error.get("message") or f"simulated failure of node {ctx.node.id!r}")
            raise NodeFailure(code, message, retryable=bool(error.get("retryable", True)))
        if isinstance(fail_attempts, int) and ctx.attempt <= fail_attempts:
            message = str(
                error.get("message")
                or f"simulated failure (attempt {ctx.attempt} of {fail_attempts} set to fail)"
            )
            raise NodeFailure(code, message, retryable=bool(error.get("retryable", True)))

    def _outputs(self, ctx: NodeContext, settings: Mapping[str, Any]) -> dict[str, Any]:
        given = settings.get("outputs")
        if isinstance(given, Mapping):
            return dict(given)
        outputs = example_outputs(ctx.node.outputs)
        if ctx.node.type == "human":
            if ctx.answer is not None:
                outputs.update(ctx.answer)
            else:
                options = _human_options(ctx)
                default = "approved" if not options or "approved" in options else options[0]
                outputs["decision"] = default
        elif ctx.node.type == "event":
            if ctx.delivered is not None:
                outputs.update(ctx.delivered)
            elif isinstance(ctx.runtime.get("payload"), Mapping):
                outputs.update(ctx.runtime["payload"])
        return outputs
