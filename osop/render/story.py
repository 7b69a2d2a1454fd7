"""The process told step by step in plain language, from ``name``/``purpose``/``explain``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from osop.format.workflow import Edge, Node, Workflow
from osop.render.graph import DrawGraph, graph_of, reading_order
from osop.render.roles import actor_of, role_groups

__all__ = ["StoryStep", "render_story", "story_steps", "who_does"]


@dataclass(frozen=True, slots=True)
class StoryStep:
    number: int
    node: Node
    who: str
    what: str
    why: str | None
    next: tuple[str, ...]


def who_does(node: Node) -> str:
    actor = actor_of(node)
    role = f" ({node.role})" if node.role else ""
    if node.type in ("company", "department"):
        return f"{node.type.capitalize()}{role}"
    if actor == "human":
        return f"A person{role}"
    if actor == "agent":
        return f"An AI agent{role}"
    return f"Automated, {node.type or 'system'}{role}"


def _explain(node: Node) -> tuple[str | None, str | None]:
    explain = node.explain
    if isinstance(explain, str):
        return explain, None
    if isinstance(explain, Mapping):
        what = explain.get("what")
        why = explain.get("why")
        return (str(what) if what else None, str(why) if why else None)
    return None, None


def _one_line(text: str) -> str:
    """Block scalars and labels with line breaks, as one line (steps are indented lines)."""
    return " ".join(text.split())


def _step_text(node: Node) -> tuple[str, str | None]:
    what, why = _explain(node)
    parts = []
    if node.purpose and node.purpose != node.label:
        parts.append(node.purpose)
    if node.description:
        parts.append(node.description)
    if what and what not in parts:
        parts.append(what)
    text = " ".join(_one_line(p).rstrip(".") + "." for p in parts if p.strip())
    return text, _one_line(why) if why else None


def _next_phrase(edge: Edge, target: str, case: str | None) -> str:
    when = edge.when
    mode = edge.mode
    if mode == "conditional":
        return f"if {when}: {target}" if when else f"if the condition holds: {target}"
    if mode == "parallel":
        return f"at the same time: {target}"
    if mode == "loop":
        if edge.for_each:
            return f"for each item of {edge.for_each}: {target}"
        return f"repeat from {target} while {when}" if when else f"repeat from {target}"
    if mode == "fallback":
        return f"if this fails: {target}"
    if mode == "error":
        return f"on an error ({when}): {target}" if when else f"on an error: {target}"
    if mode == "timeout":
        return f"if this times out: {target}"
    if mode in ("event", "signal"):
        return f"when the {mode} arrives: {target}"
    if mode == "spawn":
        return f"starts {target} on its own"
    if mode == "switch":
        return f"when the value is {case}: {target}" if case else f"otherwise: {target}"
    if mode == "compensation":
        return f"if the run fails later, undo with {target}"
    if mode == "message":
        return f"sends a message to {target}"
    if mode == "dataflow":
        return f"passes its data to {target}"
    if mode == "weighted":
        weight = f" (weight {edge.weight:g})" if edge.weight is not None else ""
        return f"sometimes{weight}: {target}"
    return f"then {target}" if not when else f"then {target} (when {when})"


def story_steps(workflow: Workflow | DrawGraph) -> list[StoryStep]:
    """One step per node, numbered in reading order."""
    graph = workflow if isinstance(workflow, DrawGraph) else graph_of(workflow)
    order = reading_order(graph)
    number = {i: n + 1 for n, i in enumerate(order)}
    steps: list[StoryStep] = []
    for i in order:
        node = graph.nodes[i]
        nexts = []
        for draw in graph.edges:
            if draw.source != i:
                continue
            target = graph.nodes[draw.target]
            ref = f"step {number[draw.target]} ({_one_line(target.label)})"
            case = None
            if draw.edge.mode == "switch" and draw.caption and draw.caption != "default":
                case = draw.caption.removeprefix("= ")
            nexts.append(_next_phrase(draw.edge, ref, case))
        what, why = _step_text(node)
        steps.append(StoryStep(number[i], node, who_does(node), what, why, tuple(nexts)))
    return steps


def render_story(workflow: Workflow | DrawGraph) -> str:
    """The story as plain text (Markdown-friendly)."""
    graph = workflow if isinstance(workflow, DrawGraph) else graph_of(workflow)
    wf = graph.workflow
    out = [f"# {_one_line(wf.label)}", ""]
    if wf.description:
        out += [wf.description.strip(), ""]
    groups = [g for g in role_groups(wf) if g.nodes]
    if groups:
        shares = ", ".join(f"{g.title}: {len(g.nodes)} ({g.share:.0%})" for g in groups)
        out += [f"Who takes part: {shares}.", ""]
    if wf.triggers:
        kinds = ", ".join(str(t.get("type", "manual")) for t in wf.triggers)
        out += [f"Starts on: {kinds}.", ""]
    for step in story_steps(graph):
        out.append(f"{step.number}. {_one_line(step.node.label)} — {step.who}.")
        if step.what:
            out.append(f"   {step.what}")
        if step.why:
            out.append(f"   Why: {step.why}")
        if step.node.requires_approval:
            out.append("   Needs a person's approval before it runs.")
        for phrase in step.next:
            out.append(f"   Next: {phrase}.")
        if not step.next:
            out.append("   This is where the process ends.")
        out.append("")
    return "\n".join(out).rstrip() + "\n"
