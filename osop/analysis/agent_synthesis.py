"""A small workflow a person can read, abstracted from many agent sessions.

Agent sessions are long lists of tool calls; the process behind them is short.
Deterministic steps, each documented in docs/agent-sessions.md:

1. **Abstract.** Every tool call becomes a step label by what it achieved
   (its ``activity``, see :mod:`osop.importers.activity`): ``explore_<area>`` for
   reads and searches (area = the top folder the call looked at), ``plan``,
   ``edit``, ``verify`` (tests, linters, type checks), ``build``, ``commit``,
   ``ship`` (push, deploy, publish, migrate), ``research`` (web), ``delegate``
   (sub-agents), ``run`` (other commands).  Consecutive calls with one label are
   one segment.
2. **Keep what is common.** A label seen in fewer than ``min_support`` of the
   sessions is noise and is dropped (reported).
3. **Order.** Labels are ordered by where they first appear (mean relative
   position); two labels seen in both orders, each in at least ``concurrent_share``
   of the sessions that have both, are independent: consecutive independent labels
   become parallel branches.
4. **Loops.** The most common step back to an earlier step within one prompt's
   work (verify → edit), when at least ``loop_share`` of the sessions take it,
   makes the steps between them a loop: a ``loop`` edge from the last back to the
   first, ``max_iterations`` = the most rounds any session took.  A loop never goes
   round shipping.
5. **Verify after edits.** When the sessions that ran a check right after every
   edit had a lower failure rate than the others, verification is placed right
   after editing (the evidence is reported either way).
6. **Risk before the irreversible.** A ``human`` review step goes before every
   step that ships (push, deploy, publish, migrate); the step runs only when the
   review approves.

The result validates, renders and runs in simulated mode; the report gives the
compression and, per step, its evidence.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import mean
from typing import Any

from osop.analysis.sessions import is_session
from osop.errors import OsopError
from osop.record.model import RunRecord

__all__ = ["AgentSynthesis", "step_label", "synthesize_sessions"]

_NAMES = {
    "plan": ("Plan the change", "agent", "Write down the steps before touching code."),
    "edit": ("Edit the code", "agent", "Make the change."),
    "verify": ("Verify", "cli", "Run the checks (tests, linters, type checks)."),
    "build": ("Build", "cli", "Build or install what the change needs."),
    "commit": ("Commit", "cli", "Record the change in version control."),
    "ship": ("Ship", "cli", "Push, deploy, publish or migrate: cannot be taken back."),
    "research": ("Research", "agent", "Look things up on the web."),
    "delegate": ("Delegate", "agent", "Hand a sub-task to a sub-agent."),
    "run": ("Run commands", "cli", "Other commands the sessions ran."),
    "mcp": ("Use MCP tools", "agent", "Tools served over MCP."),
}
_COMMAND_STEPS = frozenset({"verify", "build", "commit", "ship", "run"})
_PATHISH = re.compile(r"[A-Za-z0-9_.\-*]+(?:/[A-Za-z0-9_.\-*]+)*")
_AREA = re.compile(r"^[A-Za-z0-9_\-]+$")


def _area(target: str | None) -> str:
    if not target:
        return ""
    for token in target.split():
        if token.startswith("-"):
            continue
        if "/" in token:
            first = token.lstrip("./").split("/", 1)[0]
            if _AREA.match(first):
                return first.lower()
        elif _AREA.match(token) and token.lower() in {"src", "lib", "tests", "test", "docs", "app"}:
            return token.lower()
    return "project"


def step_label(call: dict[str, Any]) -> str | None:
    """The step a tool call belongs to (``None``: not a step of the process)."""
    activity = str(call.get("activity") or "")
    if activity == "explore":
        area = _area(call.get("target") if isinstance(call.get("target"), str) else None)
        return f"explore_{re.sub(r'[^a-z0-9_]', '_', area)}" if area else "explore"
    return {
        "plan": "plan",
        "edit": "edit",
        "verify": "verify",
        "build": "build",
        "vcs": "commit",
        "ship": "ship",
        "web": "research",
        "delegate": "delegate",
        "run": "run",
        "mcp": "mcp",
    }.get(activity)


def _collapse(labels: Sequence[str]) -> list[str]:
    out: list[str] = []
    for label in labels:
        if not out or out[-1] != label:
            out.append(label)
    return out


@dataclass
class _Evidence:
    sessions: set[str] = field(default_factory=set)
    calls: int = 0
    errors: int = 0
    tokens: float = 0.0
    cost_usd: float = 0.0
    targets: Counter[str] = field(default_factory=Counter)

    def to_dict(self, total: int) -> dict[str, Any]:
        return {
            "sessions": len(self.sessions),
            "support": round(len(self.sessions) / total, 3) if total else 0.0,
            "tool_calls": self.calls,
            "failed_calls": self.errors,
            "failure_rate": round(self.errors / self.calls, 3) if self.calls else 0.0,
            "tokens": round(self.tokens),
            "cost_usd": round(self.cost_usd, 6),
            "examples": [t for t, _ in self.targets.most_common(3)],
        }


@dataclass
class _Session:
    run_id: str
    labels: list[str]  # one per tool call, in order
    turns: list[int]  # the prompt (turn) each call answered
    calls: list[dict[str, Any]]
    nodes: int
    failed_calls: int

    @property
    def segments(self) -> list[str]:
        return _collapse(self.labels)


@dataclass
class AgentSynthesis:
    """The workflow and why it looks the way it does."""

    workflow: dict[str, Any]
    sessions: int
    session_nodes: int
    tool_calls: int
    steps: dict[str, dict[str, Any]]
    dropped: dict[str, int]
    rules: list[dict[str, Any]]
    loop: dict[str, Any] | None
    parallel: list[list[str]]
    warnings: list[str] = field(default_factory=list)

    @property
    def workflow_nodes(self) -> int:
        return len(self.workflow["nodes"])

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "agent-workflow-synthesis",
            "sessions": self.sessions,
            "compression": {
                "session_nodes": self.session_nodes,
                "tool_calls": self.tool_calls,
                "workflow_nodes": self.workflow_nodes,
                "ratio": round(self.session_nodes / max(self.workflow_nodes, 1), 2),
            },
            "steps": self.steps,
            "dropped_as_noise": self.dropped,
            "loop": self.loop,
            "parallel": self.parallel,
            "rules": self.rules,
            "warnings": self.warnings,
        }


def _sessions_of(records: Sequence[RunRecord]) -> tuple[list[_Session], dict[str, _Evidence]]:
    sessions: list[_Session] = []
    evidence: dict[str, _Evidence] = {}
    for record in records:
        if not is_session(record) or record.extra.get("x-parent-run"):
            continue  # sub-agent runs are inside their parent's delegate step
        labels: list[str] = []
        calls: list[dict[str, Any]] = []
        turns: list[int] = []
        failed = 0
        for node in record.node_records:
            turn = _turn_of(node.node_id)
            node_calls = [c for c in node.extra.get("x-tool-calls") or [] if isinstance(c, dict)]
            ai = node.ai_metadata or {}
            tokens = sum(
                float(ai.get(k) or 0)
                for k in (
                    "input_tokens",
                    "output_tokens",
                    "cache_creation_input_tokens",
                    "cache_read_input_tokens",
                )
            )
            share = 1.0 / len(node_calls) if node_calls else 0.0
            for call in node_calls:
                label = step_label(call)
                failed += bool(call.get("error"))
                if label is None:
                    continue
                labels.append(label)
                turns.append(turn)
                calls.append(call)
                ev = evidence.setdefault(label, _Evidence())
                ev.sessions.add(record.run_id)
                ev.calls += 1
                ev.errors += bool(call.get("error"))
                ev.tokens += tokens * share
                ev.cost_usd += node.cost_usd * share
                if isinstance(call.get("target"), str):
                    ev.targets[call["target"]] += 1
        sessions.append(
            _Session(record.run_id, labels, turns, calls, len(record.node_records), failed)
        )
    return sessions, evidence


def _first_positions(segments: list[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for i, label in enumerate(segments):
        out.setdefault(label, i / max(len(segments) - 1, 1))
    return out


def _turn_of(node_id: str) -> int:
    parts = node_id.split("_")
    return int(parts[1]) if len(parts) > 1 and parts[0] == "turn" and parts[1].isdigit() else 0


def _by_turn(session: _Session, kept: set[str]) -> list[list[str]]:
    """The kept steps of each turn (prompt), consecutive repeats collapsed."""
    out: dict[int, list[str]] = {}
    for label, turn in zip(session.labels, session.turns, strict=True):
        if label in kept:
            out.setdefault(turn, []).append(label)
    return [_collapse(seq) for _, seq in sorted(out.items())]


def _back_edge(
    turns: dict[str, list[list[str]]], order: list[str], loop_share: float
) -> tuple[str, str] | None:
    """The most common step-to-earlier-step transition, if enough sessions take it.

    ``(source, target)``: e.g. ``("verify", "edit")`` when sessions go back to
    editing after a check.  Going back to an earlier step within one task (one
    prompt) is what a loop is; what the person asks for next is not.  A loop never
    goes round an irreversible step.
    """
    rank = {label: i for i, label in enumerate(order)}
    counts: Counter[tuple[str, str]] = Counter()
    for seqs in turns.values():
        seen = {(a, b) for seq in seqs for a, b in itertools.pairwise(seq) if rank[b] < rank[a]}
        counts.update(seen)
    for pair, n in sorted(counts.items(), key=lambda kv: (-kv[1], rank[kv[0][1]])):
        if n / max(len(turns), 1) < loop_share:
            return None
        if "ship" not in order[rank[pair[1]] : rank[pair[0]] + 1]:
            return pair
    return None


def _body(order: list[str], back: tuple[str, str] | None) -> list[str]:
    if back is None:
        return []
    first, last = order.index(back[1]), order.index(back[0])
    return order[first : last + 1] if first <= last else []


def _rounds(seqs: list[list[str]], back: tuple[str, str]) -> int:
    """How many times a session went round: back-edge transitions taken, plus one."""
    return 1 + sum(1 for seq in seqs for a, b in itertools.pairwise(seq) if (a, b) == back)


def synthesize_sessions(
    records: Sequence[RunRecord],
    *,
    base: dict[str, Any] | None = None,
    min_support: float = 0.5,
    concurrent_share: float = 0.2,
    loop_share: float = 0.3,
    workflow_id: str | None = None,
) -> AgentSynthesis:
    """The workflow behind imported agent sessions (see the module doc)."""
    sessions, evidence = _sessions_of(records)
    if not sessions:
        raise OsopError("no imported agent sessions among the records (import them first)")
    total = len(sessions)
    support = {label: len(ev.sessions) / total for label, ev in evidence.items()}
    kept = [label for label, share in support.items() if share >= min_support]
    dropped = {label: len(evidence[label].sessions) for label in evidence if label not in set(kept)}
    if not kept:
        raise OsopError(
            f"no step is common to {min_support:.0%} of the {total} sessions; "
            "lower the support or give sessions of one task"
        )
    filtered = {s.run_id: _collapse([x for x in s.labels if x in kept]) for s in sessions}
    positions: dict[str, list[float]] = {label: [] for label in kept}
    for seq in filtered.values():
        for label, pos in _first_positions(seq).items():
            positions[label].append(pos)
    order = sorted(kept, key=lambda label: (mean(positions[label]), label))

    # pairwise order: before[a][b] = sessions where a first appears before b
    def before(a: str, b: str) -> tuple[int, int]:
        ab = ba = 0
        for seq in filtered.values():
            if a in seq and b in seq:
                if seq.index(a) < seq.index(b):
                    ab += 1
                else:
                    ba += 1
        return ab, ba

    by_turn = {s.run_id: _by_turn(s, set(kept)) for s in sessions}
    back = _back_edge(by_turn, order, loop_share)
    loop_body = _body(order, back)
    rules: list[dict[str, Any]] = []
    warnings: list[str] = []

    # verification right after edits, when that went better
    if "edit" in order and "verify" in order:
        rule = _verify_rule(sessions)
        rules.append(rule)
        if rule["applied"]:
            order.remove("verify")
            order.insert(order.index("edit") + 1, "verify")
            loop_body = _body(order, back)

    def concurrent(a: str, b: str) -> bool:
        if a in loop_body or b in loop_body:
            return False
        ab, ba = before(a, b)
        both = ab + ba
        return both > 0 and min(ab, ba) / both >= concurrent_share

    blocks: list[list[str]] = []
    for label in order:
        if blocks and all(concurrent(label, other) for other in blocks[-1]):
            blocks[-1].append(label)
        else:
            blocks.append([label])

    # risk review before irreversible steps
    prompts = [int((r.extra.get("x-session") or {}).get("prompts") or 0) for r in records
               if is_session(r) and not r.extra.get("x-parent-run")]  # fmt: skip
    nodes: list[dict[str, Any]] = [
        {
            "id": "task",
            "type": "human",
            "name": "Give the task",
            "purpose": "Say what is to be done (the prompt that starts a session).",
            "x-evidence": {
                "sessions": total,
                "prompts_per_session": round(mean(prompts), 2) if prompts else 0,
            },
        }
    ]
    edges: list[dict[str, Any]] = []
    step_ids: list[list[str]] = [["task"]]
    for block in blocks:
        if block == ["ship"] or "ship" in block:
            review = "review_risk"
            commands = [t for t, _ in evidence["ship"].targets.most_common(3)]
            nodes.append(
                {
                    "id": review,
                    "type": "human",
                    "name": "Review the risk",
                    "purpose": "Look at what is about to leave the machine and approve it.",
                    "runtime": {"options": ["approved", "rejected"]},
                    "outputs": {"decision": {"type": "string", "enum": ["approved", "rejected"]}},
                    "x-evidence": {"irreversible_commands": commands},
                }
            )
            rules.append(
                {
                    "rule": "risk-before-irreversible",
                    "applied": True,
                    "step": "ship",
                    "evidence": {
                        "sessions": len(evidence["ship"].sessions),
                        "commands": commands,
                        "sessions_with_review": 0,
                    },
                }
            )
            step_ids.append([review])
        step_ids.append(block)
        for label in block:
            nodes.append(_node(label, evidence[label], total, sessions))
    for prev, nxt in itertools.pairwise(step_ids):
        fan_out = len(nxt) > 1
        for a in prev:
            for b in nxt:
                edge: dict[str, Any] = {"from": a, "to": b}
                if fan_out and len(prev) == 1:
                    edge["mode"] = "parallel"
                if a == "review_risk":
                    edge["mode"] = "conditional"
                    edge["when"] = "decision == 'approved'"
                edges.append(edge)
    loop: dict[str, Any] | None = None
    if back is not None and loop_body:
        rounds = [_rounds(by_turn[rid], back) for rid, seq in filtered.items() if back[1] in seq]
        most = max(rounds) if rounds else 1
        if most > 1:
            last, first = loop_body[-1], loop_body[0]
            edge = {
                "from": last,
                "to": first,
                "mode": "loop",
                "when": "passed == false" if last == "verify" else "again == true",
                "max_iterations": most,
            }
            edges.append(edge)
            loop = {
                "body": loop_body,
                "max_iterations": most,
                "sessions_that_looped": sum(1 for r in rounds if r > 1),
                "rounds": dict(sorted(Counter(rounds).items())),
            }
            for node in nodes:
                if node["id"] == last:
                    name = "passed" if last == "verify" else "again"
                    node["outputs"] = {name: {"type": "boolean", "example": last == "verify"}}
    parallel = [b for b in blocks if len(b) > 1]
    for block in parallel:
        rules.append(
            {
                "rule": "parallel-exploration"
                if all(b.startswith("explore") for b in block)
                else "parallel",
                "applied": True,
                "steps": block,
                "evidence": {
                    f"{a} before {b}": before(a, b)[0]
                    for i, a in enumerate(block)
                    for b in block[i + 1 :]
                }
                | {
                    f"{b} before {a}": before(a, b)[1]
                    for i, a in enumerate(block)
                    for b in block[i + 1 :]
                },
            }
        )
    wf_id = workflow_id or "agent-workflow"
    name = f"Agent workflow (from {total} sessions)"
    version = "0.1.0"
    description = (
        f"Synthesized from {total} agent sessions ({sum(s.nodes for s in sessions)} "
        f"recorded nodes, {sum(len(s.calls) for s in sessions)} tool calls)."
    )
    if base is not None:
        wf_id = str(base.get("id") or wf_id)
        name = str(base.get("name") or name)
        version = _bump(str(base.get("version") or "0.1.0"))
        base_ids = {str(n.get("id")) for n in base.get("nodes") or [] if isinstance(n, dict)}
        new_ids = {n["id"] for n in nodes}
        rules.append(
            {
                "rule": "compare-with-base",
                "applied": False,
                "evidence": {
                    "steps_not_in_base": sorted(new_ids - base_ids),
                    "base_steps_not_seen": sorted(base_ids - new_ids),
                },
            }
        )
    workflow = {
        "osop_version": "1.1",
        "id": wf_id,
        "name": name,
        "version": version,
        "description": description,
        "tags": ["agent", "synthesized"],
        "nodes": nodes,
        "edges": edges,
    }
    steps = {n["id"]: n.get("x-evidence", {}) for n in nodes}
    return AgentSynthesis(
        workflow=workflow,
        sessions=total,
        session_nodes=sum(s.nodes for s in sessions),
        tool_calls=sum(len(s.calls) for s in sessions),
        steps=steps,
        dropped=dropped,
        rules=rules,
        loop=loop,
        parallel=parallel,
        warnings=warnings,
    )


def _bump(version: str) -> str:
    parts = version.split(".")
    if len(parts) == 3 and parts[1].isdigit():
        return f"{parts[0]}.{int(parts[1]) + 1}.0"
    return version + ".1"


def _verify_rule(sessions: list[_Session]) -> dict[str, Any]:
    """Did the sessions that checked right after every edit fail less?"""
    checked: list[_Session] = []
    unchecked: list[_Session] = []
    for s in sessions:
        seq = s.segments
        edits = [i for i, x in enumerate(seq) if x == "edit"]
        if not edits:
            continue
        ok = all(i + 1 < len(seq) and seq[i + 1] == "verify" for i in edits)
        (checked if ok else unchecked).append(s)

    def rate(group: list[_Session]) -> float | None:
        calls = sum(len(s.calls) for s in group)
        return sum(s.failed_calls for s in group) / calls if calls else None

    r_checked, r_unchecked = rate(checked), rate(unchecked)
    applied = bool(
        checked and (r_unchecked is None or (r_checked is not None and r_checked <= r_unchecked))
    )
    return {
        "rule": "verify-after-edit",
        "applied": applied,
        "evidence": {
            "sessions_verifying_after_every_edit": len(checked),
            "their_failure_rate": None if r_checked is None else round(r_checked, 3),
            "other_sessions": len(unchecked),
            "their_failure_rate_other": None if r_unchecked is None else round(r_unchecked, 3),
        },
    }


def _node(label: str, ev: _Evidence, total: int, sessions: list[_Session]) -> dict[str, Any]:
    if label.startswith("explore"):
        area = label[len("explore_") :] if label != "explore" else ""
        where = "the project's top level" if area == "project" else f"{area}/"
        node: dict[str, Any] = {
            "id": label,
            "type": "agent",
            "name": f"Explore {where}" if area else "Explore the code",
            "purpose": f"Read and search {where if area else 'the code'} before changing it.",
        }
    else:
        name, node_type, purpose = _NAMES.get(label, (label.title(), "agent", ""))
        node = {"id": label, "type": node_type, "name": name, "purpose": purpose}
    if label in _COMMAND_STEPS and ev.targets:
        node["runtime"] = {"command": ev.targets.most_common(1)[0][0]}
    node["x-evidence"] = ev.to_dict(total)
    return node
