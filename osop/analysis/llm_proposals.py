"""Further changes proposed by a language model, held to the same bar as the rules.

The model sees the synthesized workflow, the statistics and the deterministic
changes, and answers with JSON: ``{"changes": [...], "rationale": "..."}``.
Only a closed set of change types is understood (:data:`CHANGE_TYPES`); each
change is applied to a copy, and kept only if the result still passes the
validator and still has every node of the base.  Kept changes are marked
``x-osop-proposed-by: llm`` in the workflow and ``source: llm`` in the
iteration record; refused ones are listed there with the reason.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import yaml

from osop.analysis.estimates import estimate
from osop.analysis.graph_edit import WorkflowData, edges_from, node_data
from osop.analysis.synthesize import Proposal, SynthesisResult, dump_workflow
from osop.format.validate import validate_text
from osop.format.workflow import workflow_from_dict
from osop.llm import Provider, complete

__all__ = [
    "CHANGE_TYPES",
    "MAX_LLM_CHANGES",
    "NODE_FIELDS",
    "apply_change",
    "propose_with_llm",
    "provider_named",
]

CHANGE_TYPES = ("set_node_field", "add_edge", "remove_edge", "add_node")
#: Node fields a model may set (structure changes go through the edge/node changes).
NODE_FIELDS = (
    "timeout_sec",
    "retry_policy",
    "approval_gate",
    "description",
    "purpose",
    "success_criteria",
    "preconditions",
)
MAX_LLM_CHANGES = 10
MARK = "x-osop-proposed-by"

_SYSTEM = (
    "You improve OSOP workflows (YAML process graphs of typed nodes and moded edges) "
    "from execution evidence. Answer with JSON only."
)
_INSTRUCTIONS = """Propose further changes that the evidence supports, as JSON:
{{"changes": [...], "rationale": "..."}}. Each change is one of:
  {{"type": "set_node_field", "node": ID, "field": F, "value": V, "reason": TEXT}}
      with F one of {fields}
  {{"type": "add_edge", "from": ID, "to": ID, "mode": MODE, "when": CEL (optional), "reason": TEXT}}
  {{"type": "remove_edge", "from": ID, "to": ID, "mode": MODE, "reason": TEXT}}
  {{"type": "add_node", "node": {{"id": ..., "type": ..., "name": ...}}, "before": ID,
      "reason": TEXT}}
Never remove a node. Propose nothing already done. Goal: {goal}.

Workflow:
{workflow}
Statistics:
{stats}
Changes already made:
{changes}
"""


def _prompt(result: SynthesisResult, stats: dict[str, Any], goal: str | None) -> str:
    return _INSTRUCTIONS.format(
        fields=", ".join(NODE_FIELDS),
        goal=goal or "a faster, cheaper and more reliable process",
        workflow=dump_workflow(result.workflow),
        stats=json.dumps(stats, indent=1, default=str)[:20000],
        changes=yaml.safe_dump([p.to_dict() for p in result.proposals], sort_keys=False)[:20000],
    )


def apply_change(data: WorkflowData, change: Any) -> str:
    """Apply one model change to ``data`` in place; returns its target; ``ValueError`` if bad."""
    if not isinstance(change, dict):
        raise ValueError("a change must be an object")
    kind = change.get("type")
    if kind not in CHANGE_TYPES:
        raise ValueError(f"unknown change type {kind!r}")
    if kind == "set_node_field":
        field, node_id = change.get("field"), str(change.get("node"))
        if field not in NODE_FIELDS:
            raise ValueError(f"field {field!r} may not be set (allowed: {', '.join(NODE_FIELDS)})")
        try:
            node = node_data(data, node_id)
        except KeyError:
            raise ValueError(f"no node {node_id!r}") from None
        node[str(field)] = change.get("value")
        node[MARK] = "llm"
        return node_id
    if kind == "add_node":
        spec = change.get("node")
        before = str(change.get("before"))
        if not isinstance(spec, dict) or not isinstance(spec.get("id"), str):
            raise ValueError("add_node needs a node object with an id")
        try:
            anchor = node_data(data, before)
        except KeyError:
            raise ValueError(f"no node {before!r} to insert before") from None
        new = {**spec, MARK: "llm"}
        data["nodes"].insert(data["nodes"].index(anchor), new)
        for existing in data.get("edges", []):
            if existing.get("to") == before and (existing.get("mode") or "sequential") != "loop":
                existing["to"] = new["id"]
        data["edges"].append({"from": new["id"], "to": before, MARK: "llm"})
        return str(new["id"])
    source, to, mode = str(change.get("from")), str(change.get("to")), change.get("mode")
    if kind == "add_edge":
        edge: dict[str, Any] = {"from": source, "to": to, "mode": mode or "sequential"}
        if change.get("when") is not None:
            edge["when"] = str(change["when"])
        edge[MARK] = "llm"
        data.setdefault("edges", []).append(edge)
        return f"{source} -> {to}"
    matches = [
        e
        for e in edges_from(data, source)
        if e.get("to") == to and (e.get("mode") or "sequential") == (mode or "sequential")
    ]
    if not matches:
        raise ValueError(f"no edge {source} -> {to} ({mode or 'sequential'})")
    data["edges"].remove(matches[0])
    return f"{source} -> {to}"


def _check(data: WorkflowData, base_nodes: set[str]) -> list[str]:
    report = validate_text(dump_workflow(data), "llm.osop", kind="workflow", max_bytes=None)
    problems = [i.format("workflow") for i in report.errors]
    ids = {n.get("id") for n in data.get("nodes", []) if isinstance(n, dict)}
    missing = sorted(base_nodes - ids)
    if missing:
        problems.append(f"removes nodes of the base: {', '.join(missing)}")
    return problems


async def propose_with_llm(
    result: SynthesisResult,
    provider: Provider,
    model: str,
    *,
    stats: dict[str, Any] | None = None,
    goal: str | None = None,
) -> SynthesisResult:
    """Ask ``provider`` for more changes; keep those that validate. Mutates ``result``."""
    completion = await complete(
        provider,
        _prompt(result, stats or {}, goal),
        model,
        system=_SYSTEM,
        temperature=0,
        fields={"changes": "array", "rationale": "string"},
    )
    report: dict[str, Any] = {
        "provider": provider.name,
        "model": completion.model,
        "prompt_tokens": completion.prompt_tokens,
        "completion_tokens": completion.completion_tokens,
        "cost_usd": completion.cost_usd,
        "accepted": 0,
        "rejected": [],
    }
    try:
        answer = json.loads(completion.text)
    except ValueError:
        answer = None
    if not isinstance(answer, dict) or not isinstance(answer.get("changes", []), list):
        report["rejected"].append(
            {"change": completion.text[:500], "why": "not the JSON asked for"}
        )
        result.llm = report
        return result
    report["rationale"] = str(answer.get("rationale", ""))[:2000]
    base_nodes = {n.get("id") for n in result.workflow.get("nodes", []) if isinstance(n, dict)}
    base_ids = {str(n) for n in base_nodes}
    for change in answer.get("changes", [])[:MAX_LLM_CHANGES]:
        trial = copy.deepcopy(result.workflow)
        try:
            target = apply_change(trial, change)
        except ValueError as exc:
            report["rejected"].append({"change": change, "why": str(exc)})
            continue
        problems = _check(trial, base_ids)
        if problems:
            report["rejected"].append({"change": change, "why": "; ".join(problems[:5])})
            continue
        result.workflow = trial
        report["accepted"] += 1
        result.proposals.append(
            Proposal(
                type=str(change["type"]),
                target=target,
                reason=str(change.get("reason") or "proposed by the model"),
                evidence={"model": completion.model, "rationale": report["rationale"][:500]},
                config={k: v for k, v in change.items() if k not in ("type", "reason")},
                source="llm",
            )
        )
    if report["accepted"] and result.estimate_inputs is not None:
        result.after = estimate(workflow_from_dict(result.workflow), result.estimate_inputs)
    result.llm = report
    return result


def provider_named(name: str, *, api_key: str | None, base_url: str | None) -> Provider:
    """The provider called ``name`` (``offline``, ``anthropic``, ``openai``, ``google``)."""
    from osop.llm import make_provider

    runtime = {"api_key": api_key, "base_url": base_url}
    return make_provider(name, {k: v for k, v in runtime.items() if v}, {})
