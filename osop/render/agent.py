"""The agent view: a workflow written for an AI agent that will carry it out (binding §2-§4).

Markdown, in the binding's reading order: what the process is for, where it
starts, then the plan step by step — for each step what to read (inputs),
what to do (purpose, explain, runtime), what to verify (success criteria,
approvals) and what to report (declared outputs), and where it goes next.  It
ends with how to drive the plan as a guided run, so the engine keeps the
record, the retries and the branching while the agent acts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from osop.format.ports import ports_of
from osop.format.workflow import Node, Workflow
from osop.render.graph import DrawGraph, graph_of
from osop.render.story import story_steps

__all__ = ["render_agent"]


def _line(text: Any) -> str:
    return " ".join(str(text).split())


def _value(value: Any) -> str:
    if isinstance(value, str):
        return _line(value)
    return json.dumps(value, ensure_ascii=False, default=str)


def _ports(spec: Any, pointer: str) -> list[str]:
    out = []
    for port in ports_of(spec, pointer, required_by_default=True):
        notes = []
        if isinstance(port.schema, Mapping) and port.schema.get("type"):
            notes.append(str(port.schema["type"]))
        elif isinstance(port.schema, Mapping) and port.schema.get("enum"):
            notes.append("one of " + ", ".join(str(v) for v in port.schema["enum"]))
        if not port.required:
            notes.append("optional")
        out.append(f"`{port.name}`" + (f" ({', '.join(notes)})" if notes else ""))
    return out


def _explain_lines(node: Node) -> list[str]:
    explain = node.explain
    if isinstance(explain, str):
        return [f"   - Context: {_line(explain)}"]
    if not isinstance(explain, Mapping):
        return []
    out = []
    for key, label in (("what", "What"), ("why", "Why"), ("result", "Result")):
        if explain.get(key):
            out.append(f"   - {label}: {_line(explain[key])}")
    return out


def _step_lines(number: int, node: Node, nexts: tuple[str, ...], who: str) -> list[str]:
    out = [f"{number}. **{_line(node.label)}** — `{node.id}`, {node.type} node ({who})."]
    from osop.engine.guided import ENGINE_TYPES

    if node.type in ENGINE_TYPES:
        out.append("   - In a guided run the engine evaluates this step itself.")
    if node.purpose and node.purpose != node.label:
        out.append(f"   - Do: {_line(node.purpose)}")
    if node.description:
        out.append(f"   - Description: {_line(node.description)}")
    out += _explain_lines(node)
    reads = _ports(node.inputs, node.pointer)
    if reads:
        out.append("   - Read: " + ", ".join(reads))
    if node.runtime:
        runtime = ", ".join(f"{k}: {_value(v)}" for k, v in node.runtime.items())
        out.append(f"   - Runtime: {runtime}")
    for criterion in node.success_criteria:
        out.append(f"   - Verify: {_line(criterion)}")
    if node.requires_approval:
        out.append("   - Needs a person's approval first (`osop approve`).")
    if node.security:
        out.append(f"   - Security: {_value(node.security)}")
    if node.classification:
        out.append(f"   - Classification: {node.classification} (do not pass its data lower)")
    if node.retry is not None:
        out.append(f"   - Attempts: up to {node.retry.max_attempts}; a failure is retried.")
    if node.timeout_sec is not None:
        out.append(f"   - Time limit: {node.timeout_sec:g}s from when the step is handed out.")
    reports = _ports(node.outputs, node.pointer)
    if reports:
        out.append("   - Report: " + ", ".join(reports))
    if node.handoff:
        for key, value in node.handoff.items():
            out.append(f"   - Handoff {key}: {_value(value)}")
    for phrase in nexts:
        out.append(f"   - Next: {phrase}.")
    if not nexts:
        out.append("   - The process ends here.")
    return out


def render_agent(workflow: Workflow | DrawGraph) -> str:
    """The workflow as an agent's plan (Markdown)."""
    graph = workflow if isinstance(workflow, DrawGraph) else graph_of(workflow)
    wf = graph.workflow
    out = [f"# SOP for an agent: {_line(wf.label)}", ""]
    out.append(f"Workflow `{wf.id}`" + (f", version {wf.version}" if wf.version else "") + ".")
    if wf.description:
        out += ["", _line(wf.description)]
    targets = {e.target for e in wf.edges}
    sources = {e.source for e in wf.edges}
    entries = [n.id for n in wf.nodes if n.id not in targets]
    ends = [n.id for n in wf.nodes if n.id not in sources]
    out += [
        "",
        "## Where it starts and ends",
        "",
        "- Starts at: " + (", ".join(f"`{n}`" for n in entries) or "(a cycle: no entry node)"),
        "- Ends at: " + (", ".join(f"`{n}`" for n in ends) or "(no terminal node)"),
    ]
    declared = _ports(wf.inputs, "/inputs") if wf.inputs else []
    if declared:
        out.append("- Inputs of the run: " + ", ".join(declared))
    out += ["", "## The plan, step by step", ""]
    for step in story_steps(graph):
        out += _step_lines(step.number, step.node, step.next, step.who)
        out.append("")
    out += [
        "## How to carry it out: a guided run",
        "",
        "The engine decides, you act: it hands out each step when its turn comes",
        "(joins, conditions, loops, retries, time limits and approvals are its job) and",
        "keeps the record; you carry the step out with your own tools and report it.",
        "",
        "1. Start: `osop run WORKFLOW --guided --agent NAME` (MCP: `osop_run` with",
        "   `guided: true`). It prints the steps ready now.",
        "2. For each ready step: read its inputs, do what it says, check its success",
        "   criteria, then report it: `osop log RUN NODE --status COMPLETED --output",
        "   NAME=VALUE ...` (MCP: `osop_log`), or `--status FAILED --error-code C",
        "   --error-message M`. A failed step is handed out again while it has attempts.",
        "3. Report exactly the outputs the step declares: the conditions that choose the",
        "   next step read them. A report the engine cannot accept is refused and",
        "   changes nothing; fix it and report again.",
        "4. Repeat with `osop step RUN` (MCP: `osop_step {run_id}`) until the run is",
        "   COMPLETED. A step may also be left to the engine: `osop step RUN NODE",
        "   --execute`. Approvals: `osop approve RUN NODE`.",
        "",
    ]
    return "\n".join(out).rstrip() + "\n"
