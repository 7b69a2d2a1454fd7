"""Multi-agent nodes (``subtype: multi-agent``): several agents, one answer.

``runtime.agents`` lists the agents: ``{role, task, model, provider, tools,
system_prompt, ...}`` — each agent's settings laid over the node's own runtime
(``agents``/``coordination`` aside).  Every agent has its own conversation
(binding §8.3 isolation: no agent sees another's messages); what passes between
them is their answers, as :data:`COORDINATIONS` says (``runtime.coordination``,
default ``sequential``; the full definitions are in docs/semantics.md).

Each agent's conversation is a child node record (``<node>/<role>``, with
``x-parent_node``) carrying its own tokens, cost and tool calls, so the run's
cost counts each agent once; the node's own ``ai_metadata`` names the
coordination, the agents, the summed tokens and, for votes, the tally.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from osop.executors.base import NodeContext, NodeFailure, NodeResult

if TYPE_CHECKING:
    from osop.executors.agent import AgentAnswer, AgentExecutor

__all__ = ["COORDINATIONS", "run_team"]

COORDINATIONS: Final = ("sequential", "parallel", "vote", "consensus", "debate")
_DEFAULT_ROUNDS: Final = 2


def _agents(ctx: NodeContext) -> list[dict[str, Any]]:
    raw = ctx.runtime.get("agents")
    if not isinstance(raw, list) or not raw:
        raise NodeFailure(
            "BAD_RUNTIME", "a multi-agent node needs runtime.agents (a list)", retryable=False
        )
    base = {k: v for k, v in ctx.runtime.items() if k not in ("agents", "coordination", "rounds")}
    agents: list[dict[str, Any]] = []
    for i, spec in enumerate(raw):
        if not isinstance(spec, Mapping):
            raise NodeFailure(
                "BAD_RUNTIME", f"runtime.agents[{i}] is not a mapping", retryable=False
            )
        role = str(spec.get("role") or spec.get("name") or f"agent{i + 1}")
        if any(a["role"] == role for a in agents):
            raise NodeFailure("BAD_RUNTIME", f"two agents have the role {role!r}", retryable=False)
        agents.append({**base, **dict(spec), "role": role})
    return agents


def _prompt(
    base: str, agent: Mapping[str, Any], others: list[tuple[str, Any]], heading: str
) -> str:
    parts = [base, f"You are the {agent['role']}."]
    if agent.get("task"):
        parts.append(f"Your task: {agent['task']}")
    if others:
        lines = "\n".join(f"- {role}: {json.dumps(answer, default=str)}" for role, answer in others)
        parts.append(f"{heading}\n{lines}")
    return "\n\n".join(parts)


def _child(ctx: NodeContext, role: str, answer: AgentAnswer, round_: int | None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "node_id": f"{ctx.node.id}/{role}",
        "node_type": "agent",
        "attempt": ctx.attempt,
        "status": "COMPLETED",
        "started_at": answer.started_at,
        "ended_at": answer.ended_at,
        "duration_ms": answer.duration_ms,
        "outputs": answer.outputs,
        "ai_metadata": answer.metadata,
        "x-role": role,
    }
    if ctx.iteration is not None:
        record["iteration"] = ctx.iteration
    if answer.tools_used:
        record["tools_used"] = answer.tools_used
    if round_ is not None:
        record["x-round"] = round_
    return record


def _tally(answers: list[tuple[str, dict[str, Any]]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The answer most agents gave (ties: the earliest agent's), and the votes."""
    counts: dict[str, int] = {}
    first: dict[str, tuple[int, dict[str, Any]]] = {}
    for i, (_, outputs) in enumerate(answers):
        key = json.dumps(outputs, sort_keys=True, default=str)
        counts[key] = counts.get(key, 0) + 1
        first.setdefault(key, (i, outputs))
    best = max(counts, key=lambda k: (counts[k], -first[k][0]))
    votes = {role: json.dumps(outputs, sort_keys=True, default=str) for role, outputs in answers}
    return first[best][1], {
        "votes": votes,
        "winner": best,
        "count": counts[best],
        "of": len(answers),
        "unanimous": counts[best] == len(answers),
    }


async def run_team(executor: AgentExecutor, ctx: NodeContext) -> NodeResult:
    from osop.executors.agent import agent_prompt, prose_criteria

    agents = _agents(ctx)
    coordination = str(ctx.runtime.get("coordination") or "sequential").lower()
    if coordination not in COORDINATIONS:
        raise NodeFailure(
            "BAD_RUNTIME",
            f"runtime.coordination {coordination!r} is not one of {', '.join(COORDINATIONS)}",
            retryable=False,
        )
    base = agent_prompt(ctx)
    criteria = prose_criteria(ctx)
    children: list[dict[str, Any]] = []
    answers: list[AgentAnswer] = []
    extra: dict[str, Any] = {}

    async def ask(agent: Mapping[str, Any], prompt: str, final: bool, round_: int | None) -> Any:
        answer = await executor.answer(
            ctx, agent, prompt, criteria if final else [], structured=final
        )
        answers.append(answer)
        children.append(_child(ctx, str(agent["role"]), answer, round_))
        return answer.outputs

    if coordination == "sequential":
        so_far: list[tuple[str, Any]] = []
        outputs: dict[str, Any] = {}
        for i, agent in enumerate(agents):
            last = i == len(agents) - 1
            prompt = _prompt(base, agent, so_far, "Answers of the agents before you:")
            outputs = await ask(agent, prompt, last, None)
            so_far.append((str(agent["role"]), outputs))
    elif coordination == "parallel":
        results = await asyncio.gather(
            *(ask(a, _prompt(base, a, [], ""), False, None) for a in agents)
        )
        outputs = {"answers": {str(a["role"]): r for a, r in zip(agents, results, strict=True)}}
    else:
        rounds = ctx.runtime.get("rounds")
        total = (
            int(rounds)
            if coordination == "debate" and isinstance(rounds, int) and rounds > 0
            else (_DEFAULT_ROUNDS if coordination == "debate" else 1)
        )
        previous: list[tuple[str, dict[str, Any]]] = []
        for round_ in range(1, total + 1):
            last = round_ == total
            prompts = [
                _prompt(
                    base,
                    a,
                    [p for p in previous if p[0] != a["role"]],
                    "The other agents answered last round (weigh their arguments, then give "
                    "your own answer):",
                )
                for a in agents
            ]
            results = await asyncio.gather(
                *(
                    ask(a, p, last, round_ if total > 1 else None)
                    for a, p in zip(agents, prompts, strict=True)
                )
            )
            previous = [(str(a["role"]), r) for a, r in zip(agents, results, strict=True)]
        outputs, extra["vote"] = _tally(previous)
    metadata: dict[str, Any] = {
        "coordination": coordination,
        "agents": [a["role"] for a in agents],
        "prompt_tokens": sum(int(a.metadata.get("prompt_tokens") or 0) for a in answers),
        "completion_tokens": sum(int(a.metadata.get("completion_tokens") or 0) for a in answers),
        **extra,
    }
    providers = {a.metadata.get("provider") for a in answers}
    models = {a.metadata.get("model") for a in answers}
    if len(providers) == 1:
        metadata["provider"] = providers.pop()
    if len(models) == 1:
        metadata["model"] = models.pop()
    costs = [a.cost_usd for a in answers]
    # The agents' records carry the cost; the node says what it sums to.
    metadata["agents_cost_usd"] = None if None in costs else round(sum(c or 0.0 for c in costs), 8)
    return NodeResult(
        outputs=outputs,
        ai_metadata=metadata,
        children=children,
        log=[f"{coordination} of {len(agents)} agents, {len(answers)} conversation(s)"],
    )
