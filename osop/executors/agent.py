"""The ``agent`` executor: a model that answers, calling tools until it is done.

Provider (see :mod:`osop.llm.select`): ``OSOP_LLM_PROVIDER``, else
``runtime.provider``, else inferred from ``runtime.model``; none is a
``NO_PROVIDER`` failure and a missing key ``NO_CREDENTIALS`` — a live run never
falls back to the offline provider, which answers only when named or in
simulated/dry runs (the record then says ``provider: offline``).  A test or
host may add providers through ``ctx.services["llm_providers"]`` (name →
provider).

Instructions (binding §4): the context handed over by the agent nodes just
before (their ``handoff.summary_for_next_node``, and their
``handoff.expected_output`` as this node's success criterion), then
``runtime.prompt`` (or the node's ``purpose``/label), ``explain.what`` /
``why`` / ``result``, and the inputs as JSON.  ``runtime.system_prompt``,
``temperature``, ``max_tokens`` go to the model.

Tools: ``runtime.tools`` (see :mod:`osop.executors.agent_tools`); the loop is
bounded by ``runtime.max_turns`` (default 10) and ``runtime.max_cost_usd``
(else the workflow's ``budget.max_cost_usd``).

Outputs: with ``runtime.options``, the chosen option under ``runtime.output``
(else the first declared output, else ``decision``); with declared outputs or
``runtime.output_schema``, the JSON object the model returns — asked for in
each SDK's JSON-schema mode and validated against it (``BAD_LLM_OUTPUT``,
retryable, when it does not fit); otherwise ``{text}``.  A ``confidence``
number in a structured answer that is not a declared output goes to
``ai_metadata.confidence``.

Success criteria in prose (those that are not CEL; the engine checks the CEL
ones) and handed-over expected outputs are judged by the model after it
answers; each verdict is kept in ``ai_metadata.criteria`` and an unmet one
fails the node with ``SUCCESS_CRITERIA``.

``ai_metadata``: model, provider, prompt/completion tokens (cache tokens when
any), ``cost_usd`` from the price table (:mod:`osop.llm.prices`), one entry
per model call (``turns``) and per tool call (``tool_calls``); ``tools_used``
sums the calls per tool.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from osop.executors.agent_tools import open_toolbox
from osop.executors.base import NodeContext, NodeFailure, NodeResult
from osop.llm import (
    ChatRequest,
    Conversation,
    LLMError,
    Message,
    Provider,
    choose_provider,
    converse,
    make_provider,
)
from osop.llm.schema import check_answer, object_schema, parse_json_answer

__all__ = [
    "AgentAnswer",
    "AgentExecutor",
    "agent_prompt",
    "handoff_from",
    "output_fields",
    "prose_criteria",
]

_DEFAULT_MAX_TURNS = 10


def handoff_from(ctx: NodeContext) -> list[tuple[str, Mapping[str, Any]]]:
    """(node id, handoff) of the nodes with a ``handoff`` that lead straight to this one."""
    wf = ctx.workflow
    out: list[tuple[str, Mapping[str, Any]]] = []
    for edge in wf.incoming(ctx.node.id):
        if wf.has_node(edge.source):
            source = wf.node(edge.source)
            if source.handoff and edge.mode not in ("fallback", "error", "compensation"):
                out.append((source.id, source.handoff))
    return out


def agent_prompt(ctx: NodeContext) -> str:
    rt, node = ctx.runtime, ctx.node
    parts: list[str] = []
    for source, handoff in handoff_from(ctx):
        if handoff.get("summary_for_next_node"):
            parts.append(f"Context from {source}: {handoff['summary_for_next_node']}")
    text = rt.get("prompt") or rt.get("user_prompt") or rt.get("instruction")
    parts.append(str(text or node.purpose or node.description or node.label))
    explain = node.explain if isinstance(node.explain, Mapping) else {}
    for key, title in (("what", "Details"), ("why", "Why"), ("result", "Expected result")):
        if explain.get(key):
            parts.append(f"{title}: {explain[key]}")
    if ctx.inputs:
        parts.append("Inputs:\n" + json.dumps(ctx.inputs, sort_keys=True, default=str))
    return "\n\n".join(parts)


def output_fields(ctx: NodeContext) -> dict[str, Any]:
    """Field name → schema the answer must provide (empty: free text)."""
    schema = ctx.runtime.get("output_schema")
    if isinstance(schema, Mapping):
        props = schema.get("properties")
        if isinstance(props, Mapping):
            return {str(k): v for k, v in props.items()}
        return {str(k): v for k, v in schema.items()}
    spec = ctx.node.outputs
    if isinstance(spec, list):
        fields: dict[str, Any] = {}
        for item in spec:
            if isinstance(item, str):
                fields[item] = "string"
            elif isinstance(item, Mapping) and isinstance(item.get("name"), str):
                fields[item["name"]] = item.get("schema", item.get("type", "string"))
        return fields
    if isinstance(spec, Mapping):
        props = spec.get("properties")
        if spec.get("type") == "object" and isinstance(props, Mapping):
            return {str(k): v for k, v in props.items()}
        return {str(k): v for k, v in spec.items() if not str(k).startswith("x-")}
    return {}


def prose_criteria(ctx: NodeContext) -> list[str]:
    """The success criteria only a reader can judge: the node's non-CEL ones, then the
    ``expected_output`` handed over by the nodes before."""
    from osop.errors import ExpressionError
    from osop.expr.cel import compile_expression

    out: list[str] = []
    for criterion in ctx.node.success_criteria:
        try:
            compile_expression(criterion)
        except ExpressionError:
            out.append(criterion)
    out += [str(h["expected_output"]) for _, h in handoff_from(ctx) if h.get("expected_output")]
    return out


def _budget(ctx: NodeContext) -> float | None:
    for value in (
        ctx.runtime.get("max_cost_usd"),
        (ctx.workflow.raw.get("budget") or {}).get("max_cost_usd")
        if isinstance(ctx.workflow.raw.get("budget"), Mapping)
        else None,
        ctx.workflow.raw.get("max_cost_usd"),
    ):
        if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            return float(value)
    return None


def _choice(text: str, options: list[str]) -> str | None:
    answer = text.strip().strip(".\"'").lower()
    for option in options:
        if answer == option.lower():
            return option
    found = [o for o in options if re.search(rf"\b{re.escape(o.lower())}\b", answer)]
    return found[0] if len(found) == 1 else None


def _failure(exc: LLMError) -> NodeFailure:
    return NodeFailure(exc.code, exc.message, details=exc.details, retryable=exc.retryable)


def _tools_used(talk: Conversation, kinds: Mapping[str, str]) -> list[dict[str, Any]]:
    counts: dict[str, dict[str, Any]] = {}
    for call in talk.tool_calls:
        entry = counts.setdefault(
            call["tool"], {"tool": call["tool"], "kind": kinds.get(call["tool"], "?"), "calls": 0}
        )
        entry["calls"] += 1
        if call.get("status") not in (None, "ok"):
            entry[call["status"]] = entry.get(call["status"], 0) + 1
    return list(counts.values())


@dataclass(slots=True)
class AgentAnswer:
    """One agent's finished conversation, as the record will show it."""

    outputs: dict[str, Any]
    metadata: dict[str, Any]
    tools_used: list[dict[str, Any]]
    cost_usd: float | None
    log: list[str]
    started_at: str
    ended_at: str
    duration_ms: float


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


class AgentExecutor:
    node_type = "agent"

    async def execute(self, ctx: NodeContext) -> NodeResult:
        if ctx.node.subtype == "multi-agent" or isinstance(ctx.runtime.get("agents"), list):
            from osop.executors.multi_agent import run_team

            return await run_team(self, ctx)
        answer = await self.answer(ctx, ctx.runtime, agent_prompt(ctx), prose_criteria(ctx))
        return NodeResult(
            outputs=answer.outputs,
            ai_metadata=answer.metadata,
            tools_used=answer.tools_used,
            cost_usd=answer.cost_usd,
            log=answer.log,
        )

    async def answer(
        self,
        ctx: NodeContext,
        rt: Mapping[str, Any],
        prompt: str,
        criteria: list[str],
        *,
        structured: bool = True,
    ) -> AgentAnswer:
        """One conversation with the model ``rt`` names, to a checked answer."""
        started, mono = _now(), time.monotonic()
        try:
            choice = choose_provider(rt, ctx.env, ctx.mode)
            custom = ctx.services.get("llm_providers")
            provider: Provider = make_provider(
                choice.name, rt, ctx.env, custom if isinstance(custom, Mapping) else None
            )
        except LLMError as exc:
            raise _failure(exc) from exc
        model = str(rt.get("model") or ("offline" if choice.name == "offline" else ""))
        if not model:
            raise NodeFailure(
                "NO_MODEL",
                f"runtime.model is required for the {choice.name} provider",
                retryable=False,
            )
        options = [str(o) for o in rt["options"]] if isinstance(rt.get("options"), list) else []
        fields = {} if options or not structured else output_fields(ctx)
        schema = object_schema(fields) if fields else None
        turns = rt.get("max_turns")
        max_turns = int(turns) if isinstance(turns, int) and turns > 0 else _DEFAULT_MAX_TURNS
        system = str(rt["system_prompt"]) if rt.get("system_prompt") else None
        if options:
            extra = "Answer with exactly one of: " + ", ".join(options)
            system = f"{system}\n\n{extra}" if system else extra
        sub = replace(ctx, runtime=dict(rt)) if rt is not ctx.runtime else ctx
        async with contextlib.AsyncExitStack() as stack:
            box = await open_toolbox(sub, stack)
            request = ChatRequest(
                model=model,
                messages=(Message("user", prompt),),
                system=system,
                tools=tuple(box.specs),
                temperature=rt.get("temperature")
                if isinstance(rt.get("temperature"), int | float)
                else None,
                max_tokens=rt.get("max_tokens") if isinstance(rt.get("max_tokens"), int) else None,
                output_schema=schema,
                options=options or None,
            )
            try:
                talk = await converse(
                    provider, request, box.handlers, max_turns=max_turns, max_cost_usd=_budget(ctx)
                )
                verdicts = await self._judge(criteria, provider, talk, request)
            except LLMError as exc:
                raise _failure(exc) from exc
        metadata = talk.metadata()
        outputs = self._outputs(ctx, talk.text, options, schema, metadata)
        if verdicts:
            metadata["criteria"] = verdicts
        log = [
            f"{provider.name}/{talk.model}: {talk.usage.input_tokens} prompt + "
            f"{talk.usage.output_tokens} completion tokens in {len(talk.turns)} turn(s), "
            f"{len(talk.tool_calls)} tool call(s)"
        ]
        unmet = [v for v in verdicts if not v["met"]]
        if unmet:
            raise NodeFailure(
                "SUCCESS_CRITERIA",
                "success criterion not met: "
                + "; ".join(f"{v['criterion']} ({v['reason']})" for v in unmet),
                details={"ai_metadata": metadata},
                outputs=outputs,
            )
        return AgentAnswer(
            outputs=outputs,
            metadata=metadata,
            tools_used=_tools_used(talk, box.kinds),
            cost_usd=talk.cost_usd,
            log=log,
            started_at=started,
            ended_at=_now(),
            duration_ms=round((time.monotonic() - mono) * 1000, 3),
        )

    async def _judge(
        self, criteria: list[str], provider: Provider, talk: Conversation, request: ChatRequest
    ) -> list[dict[str, Any]]:
        """Ask the model whether its answer meets each prose criterion (one more call)."""
        if not criteria:
            return []
        numbered = "\n".join(f"{i + 1}. {c}" for i, c in enumerate(criteria))
        question = (
            "Judge your final answer above against each success criterion below. For each, "
            "say whether it is met and why, in one sentence.\n\n" + numbered
        )
        verdict_schema = {
            "type": "object",
            "properties": {
                "verdicts": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "criterion": {"type": "integer"},
                            "met": {"type": "boolean"},
                            "reason": {"type": "string"},
                        },
                        "required": ["criterion", "met", "reason"],
                    },
                }
            },
            "required": ["verdicts"],
        }
        judged = await converse(
            provider,
            ChatRequest(
                model=request.model,
                messages=(*talk.messages, Message("user", question)),
                system=request.system,
                output_schema=verdict_schema,
            ),
            {},
            max_turns=1,
        )
        talk.usage = talk.usage + judged.usage
        talk.turns += [{**t, "purpose": "criteria"} for t in judged.turns]
        if talk.cost_usd is not None:
            talk.cost_usd = None if judged.cost_usd is None else talk.cost_usd + judged.cost_usd
        if provider.name == "offline":  # no reader offline: recorded as not judged, not as met
            return [
                {"criterion": c, "met": True, "reason": "not judged (offline)"} for c in criteria
            ]
        data = parse_json_answer(judged.text)
        by_number = {
            v.get("criterion"): v for v in data.get("verdicts") or [] if isinstance(v, Mapping)
        }
        out = []
        for i, criterion in enumerate(criteria, start=1):
            verdict = by_number.get(i)
            if verdict is None:
                raise LLMError("BAD_LLM_OUTPUT", f"the model gave no verdict on: {criterion}")
            out.append(
                {
                    "criterion": criterion,
                    "met": verdict.get("met") is True,
                    "reason": str(verdict.get("reason") or ""),
                }
            )
        return out

    def _outputs(
        self,
        ctx: NodeContext,
        text: str,
        options: list[str],
        schema: Mapping[str, Any] | None,
        metadata: dict[str, Any],
    ) -> dict[str, Any]:
        if options:
            choice = _choice(text, options)
            if choice is None:
                raise NodeFailure(
                    "BAD_LLM_OUTPUT",
                    f"the model answered {text[:80]!r}, not one of {', '.join(options)}",
                    details={"ai_metadata": metadata},
                )
            declared = ctx.node.declared_outputs
            key = str(ctx.runtime.get("output") or (declared[0] if declared else "decision"))
            return {key: choice}
        if schema is not None:
            try:
                data = parse_json_answer(text)
                confidence = data.get("confidence")
                if "confidence" not in schema["properties"] and isinstance(confidence, int | float):
                    metadata["confidence"] = confidence
                    del data["confidence"]
                check_answer(data, schema)
            except LLMError as exc:
                raise NodeFailure(
                    exc.code, exc.message, details={"ai_metadata": metadata}, retryable=True
                ) from exc
            return data
        return {str(ctx.runtime.get("output") or "text"): text}
