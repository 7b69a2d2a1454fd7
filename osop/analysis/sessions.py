"""What people ask of imported agent sessions: stats over many, a diff of two.

An imported session is an ordinary record (``runtime.agent`` names the agent) with
``x-session`` totals, ``x-phase`` on each node and ``x-tool-calls`` entries (see
:mod:`osop.importers.build`); everything here reads only those, so sessions of any
agent compare with each other.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from osop.analysis.stats import percentile
from osop.record.model import RunRecord

__all__ = [
    "SessionDiff",
    "SessionStats",
    "diff_sessions",
    "format_session_diff",
    "format_session_stats",
    "is_session",
    "session_stats",
    "tool_calls_of",
]

TOKEN_KEYS = (
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
)


def is_session(record: RunRecord) -> bool:
    """Whether ``record`` is an imported agent session."""
    return bool((record.runtime or {}).get("agent")) and isinstance(
        record.extra.get("x-session"), dict
    )


def tool_calls_of(record: RunRecord) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for node in record.node_records:
        calls = node.extra.get("x-tool-calls")
        if isinstance(calls, list):
            out.extend(c for c in calls if isinstance(c, dict))
    return out


def _info(record: RunRecord) -> dict[str, Any]:
    value = record.extra.get("x-session")
    return value if isinstance(value, dict) else {}


def _num(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _tokens(ai: dict[str, Any] | None) -> dict[str, int]:
    ai = ai or {}
    return {k: int(_num(ai.get(k))) for k in TOKEN_KEYS}


@dataclass
class _Bucket:
    """Tokens, cost, counts of one group (a model, a step kind, a tool)."""

    tokens: Counter[str] = field(default_factory=Counter)
    cost_usd: float = 0.0
    nodes: int = 0
    calls: int = 0
    errors: int = 0
    retries: int = 0
    durations_ms: list[float] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.tokens:
            out["tokens"] = {k: self.tokens.get(k, 0) for k in TOKEN_KEYS}
            out["tokens"]["total"] = sum(self.tokens.values())
            out["cost_usd"] = round(self.cost_usd, 6)
        if self.nodes:
            out["nodes"] = self.nodes
        out["calls"] = self.calls
        out["errors"] = self.errors
        out["retries"] = self.retries
        if self.durations_ms:
            ordered = sorted(self.durations_ms)
            out["duration_ms"] = {
                "p50": round(percentile(ordered, 0.5), 1),
                "p95": round(percentile(ordered, 0.95), 1),
                "total": round(sum(ordered), 1),
            }
        return out


@dataclass
class SessionRow:
    run_id: str
    session_id: str
    agent: str
    model: str | None
    started_at: str | None
    status: str
    subagent_of: str | None
    tokens: dict[str, int]
    cost_usd: float
    prompts: int
    tool_calls: int
    failed_tool_calls: int
    retries: int
    interruptions: int
    human_wait_ms: float
    active_ms: float
    first_edit_ms: float | None

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["tokens"] = {**self.tokens, "total": sum(self.tokens.values())}
        out["cost_usd"] = round(self.cost_usd, 6)
        return out


@dataclass
class SessionStats:
    sessions: list[SessionRow]
    by_model: dict[str, _Bucket]
    by_step: dict[str, _Bucket]
    by_tool: dict[str, _Bucket]
    by_activity: dict[str, _Bucket]

    def totals(self) -> dict[str, Any]:
        tokens: Counter[str] = Counter()
        for row in self.sessions:
            tokens.update(row.tokens)
        firsts = sorted(r.first_edit_ms for r in self.sessions if r.first_edit_ms is not None)
        return {
            "sessions": sum(1 for r in self.sessions if r.subagent_of is None),
            "subagent_runs": sum(1 for r in self.sessions if r.subagent_of is not None),
            "tokens": {**{k: tokens.get(k, 0) for k in TOKEN_KEYS}, "total": sum(tokens.values())},
            "cost_usd": round(sum(r.cost_usd for r in self.sessions), 6),
            "tool_calls": sum(r.tool_calls for r in self.sessions),
            "failed_tool_calls": sum(r.failed_tool_calls for r in self.sessions),
            "retries": sum(r.retries for r in self.sessions),
            "interruptions": sum(r.interruptions for r in self.sessions),
            "human_wait_ms": round(sum(r.human_wait_ms for r in self.sessions), 1),
            "active_ms": round(sum(r.active_ms for r in self.sessions), 1),
            "time_to_first_edit_ms": {
                "p50": round(percentile(firsts, 0.5), 1),
                "p95": round(percentile(firsts, 0.95), 1),
            }
            if firsts
            else None,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "totals": self.totals(),
            "sessions": [r.to_dict() for r in self.sessions],
            "by_model": {k: v.to_dict() for k, v in sorted(self.by_model.items())},
            "by_step": {k: v.to_dict() for k, v in sorted(self.by_step.items())},
            "by_tool": {
                k: v.to_dict() for k, v in sorted(self.by_tool.items(), key=lambda kv: -kv[1].calls)
            },
            "by_activity": {k: v.to_dict() for k, v in sorted(self.by_activity.items())},
        }


def session_stats(records: Iterable[RunRecord]) -> SessionStats:
    """Tokens and cost per session, model and step kind; tool mix; failures; waits."""
    rows: list[SessionRow] = []
    by_model: dict[str, _Bucket] = {}
    by_step: dict[str, _Bucket] = {}
    by_tool: dict[str, _Bucket] = {}
    by_activity: dict[str, _Bucket] = {}
    for record in records:
        if not is_session(record):
            continue
        info = _info(record)
        runtime = record.runtime or {}
        tokens = info.get("tokens") if isinstance(info.get("tokens"), dict) else {}
        parent = record.extra.get("x-parent-run")
        rows.append(
            SessionRow(
                run_id=record.run_id,
                session_id=str(runtime.get("session_id", "")),
                agent=str(runtime.get("agent", "")),
                model=runtime.get("model"),
                started_at=record.started_at,
                status=record.status,
                subagent_of=parent.get("run_id") if isinstance(parent, dict) else None,
                tokens={k: int(_num((tokens or {}).get(k))) for k in TOKEN_KEYS},
                cost_usd=record.total_cost_usd,
                prompts=int(_num(info.get("prompts"))),
                tool_calls=int(_num(info.get("tool_calls"))),
                failed_tool_calls=int(_num(info.get("failed_tool_calls"))),
                retries=int(_num(info.get("retries"))),
                interruptions=int(_num(info.get("interruptions"))),
                human_wait_ms=_num(info.get("human_wait_ms")),
                active_ms=_num(info.get("active_ms")),
                first_edit_ms=info.get("first_edit_ms")
                if isinstance(info.get("first_edit_ms"), int | float)
                else None,
            )
        )
        for node in record.node_records:
            if node.extra.get("x-marker") or node.node_type in ("human", "event"):
                continue
            step = str(node.extra.get("x-phase") or node.node_type)
            bucket = by_step.setdefault(step, _Bucket())
            node_tokens = _tokens(node.ai_metadata)
            bucket.tokens.update(node_tokens)
            bucket.cost_usd += node.cost_usd
            bucket.nodes += 1
            bucket.errors += node.status == "FAILED"
            if node.duration_ms is not None:
                bucket.durations_ms.append(node.duration_ms)
            model = str((node.ai_metadata or {}).get("model") or "(unknown)")
            if any(node_tokens.values()):
                mb = by_model.setdefault(model, _Bucket())
                mb.tokens.update(node_tokens)
                mb.cost_usd += node.cost_usd
                mb.nodes += 1
            for call in node.extra.get("x-tool-calls") or []:
                if not isinstance(call, dict):
                    continue
                bucket.calls += 1
                for key, table in (
                    (call.get("tool"), by_tool),
                    (call.get("activity"), by_activity),
                ):
                    tb = table.setdefault(str(key or "?"), _Bucket())
                    tb.calls += 1
                    tb.errors += bool(call.get("error"))
                    tb.retries += bool(call.get("retry"))
                    if isinstance(call.get("duration_ms"), int | float):
                        tb.durations_ms.append(float(call["duration_ms"]))
    rows.sort(key=lambda r: (r.started_at or "", r.run_id))
    return SessionStats(rows, by_model, by_step, by_tool, by_activity)


def _ms_text(ms: float | None) -> str:
    if ms is None:
        return "-"
    seconds = ms / 1000.0
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, sec = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{sec:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def _k(n: float) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M"
    if n >= 10_000:
        return f"{n / 1000:.0f}k"
    return f"{int(n)}"


def format_session_stats(stats: SessionStats) -> str:
    """Plain text, 80 columns."""
    t = stats.totals()
    tok = t["tokens"]
    lines = [
        "AGENT SESSIONS",
        "==============",
        f"{t['sessions']} session(s), {t['subagent_runs']} sub-agent run(s); "
        f"cost ${t['cost_usd']:.4f}",
        f"tokens {_k(tok['total'])}: input {_k(tok['input_tokens'])}, output "
        f"{_k(tok['output_tokens'])}, cache write {_k(tok['cache_creation_input_tokens'])}, "
        f"cache read {_k(tok['cache_read_input_tokens'])}",
        f"tool calls {t['tool_calls']}, failed {t['failed_tool_calls']}, retried {t['retries']}"
        f", interruptions {t['interruptions']}",
        f"active {_ms_text(t['active_ms'])}, waiting for the person {_ms_text(t['human_wait_ms'])}",
    ]
    if t["time_to_first_edit_ms"]:
        first = t["time_to_first_edit_ms"]
        lines.append(
            f"time to first edit: p50 {_ms_text(first['p50'])}, p95 {_ms_text(first['p95'])}"
        )
    lines += ["", "PER SESSION", "-----------"]
    lines.append(f"{'session':<14}{'model':<22}{'tokens':>8}{'USD':>9}{'calls':>6}{'fail':>5}"
                 f"{'active':>8}{'wait':>8}")  # fmt: skip
    for row in stats.sessions:
        name = ("  " if row.subagent_of else "") + row.session_id[:12]
        if row.subagent_of:
            name = "  sub " + row.run_id[:6]
        lines.append(
            f"{name:<14}{(row.model or '-')[:21]:<22}{_k(sum(row.tokens.values())):>8}"
            f"{row.cost_usd:>9.4f}{row.tool_calls:>6}{row.failed_tool_calls:>5}"
            f"{_ms_text(row.active_ms):>8}{_ms_text(row.human_wait_ms):>8}"
        )
    lines += ["", "PER MODEL", "---------"]
    for model, b in sorted(stats.by_model.items(), key=lambda kv: -kv[1].cost_usd):
        lines.append(f"{model[:40]:<42}{_k(sum(b.tokens.values())):>10}{b.cost_usd:>12.4f} USD")
    lines += ["", "PER STEP KIND", "-------------"]
    lines.append(f"{'step':<12}{'nodes':>6}{'calls':>7}{'failed':>7}{'tokens':>9}{'USD':>10}"
                 f"{'p50':>9}")  # fmt: skip
    for step, b in sorted(stats.by_step.items(), key=lambda kv: -kv[1].cost_usd):
        p50 = percentile(sorted(b.durations_ms), 0.5) if b.durations_ms else None
        lines.append(
            f"{step[:11]:<12}{b.nodes:>6}{b.calls:>7}{b.errors:>7}{_k(sum(b.tokens.values())):>9}"
            f"{b.cost_usd:>10.4f}{_ms_text(p50):>9}"
        )
    lines += ["", "TOOL MIX", "--------"]
    total_calls = sum(b.calls for b in stats.by_tool.values()) or 1
    for tool, b in sorted(stats.by_tool.items(), key=lambda kv: -kv[1].calls)[:20]:
        p50 = percentile(sorted(b.durations_ms), 0.5) if b.durations_ms else None
        lines.append(
            f"{tool[:30]:<32}{b.calls:>6} {b.calls / total_calls:>6.1%}  errors {b.errors:<4}"
            f"retries {b.retries:<4}p50 {_ms_text(p50)}"
        )
    return "\n".join(lines) + "\n"


# -- diff of two sessions ---------------------------------------------------------


def _targets(record: RunRecord, activity: str) -> list[str]:
    return [
        str(c.get("target"))
        for c in tool_calls_of(record)
        if c.get("activity") == activity and c.get("target")
    ]


def _phases(record: RunRecord) -> list[str]:
    out: list[str] = []
    for node in record.node_records:
        phase = node.extra.get("x-phase")
        if node.node_type == "human":
            out.append("prompt")
        elif isinstance(phase, str) and (not out or out[-1] != phase or node.attempt > 1):
            out.append(phase if node.attempt == 1 else f"{phase} (retry)")
    return out


@dataclass
class SessionDiff:
    name_a: str
    name_b: str
    a: dict[str, Any]
    b: dict[str, Any]
    only_a: dict[str, list[str]]
    only_b: dict[str, list[str]]
    tools: dict[str, tuple[int, int]]
    phases_a: list[str]
    phases_b: list[str]
    warnings: list[str]

    @property
    def identical(self) -> bool:
        return (
            self.a == self.b
            and not any(self.only_a.values())
            and not any(self.only_b.values())
            and self.phases_a == self.phases_b
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "session-diff",
            "a": {"name": self.name_a, **self.a},
            "b": {"name": self.name_b, **self.b},
            "only_in_a": self.only_a,
            "only_in_b": self.only_b,
            "tools": {k: {"a": v[0], "b": v[1]} for k, v in self.tools.items()},
            "phases": {"a": self.phases_a, "b": self.phases_b},
            "identical": self.identical,
            "warnings": self.warnings,
        }


_FIGURES = (
    "prompts",
    "tool_calls",
    "failed_tool_calls",
    "retries",
    "interruptions",
    "active_ms",
    "human_wait_ms",
    "first_edit_ms",
)


def _figures(record: RunRecord) -> dict[str, Any]:
    info = _info(record)
    tokens = info.get("tokens") if isinstance(info.get("tokens"), dict) else {}
    out: dict[str, Any] = {k: info.get(k) for k in _FIGURES}
    out["tokens"] = sum(int(_num((tokens or {}).get(k))) for k in TOKEN_KEYS)
    out["output_tokens"] = int(_num((tokens or {}).get("output_tokens")))
    out["cost_usd"] = round(record.total_cost_usd, 6)
    out["model"] = (record.runtime or {}).get("model")
    out["status"] = record.status
    return out


def diff_sessions(a: RunRecord, b: RunRecord, name_a: str = "A", name_b: str = "B") -> SessionDiff:
    """What changed between two sessions doing the same task.

    Figures (tokens, cost, calls, failures, waits), the files each read and edited,
    the commands each ran, the tool mix, and the sequence of phases.
    """
    only_a: dict[str, list[str]] = {}
    only_b: dict[str, list[str]] = {}
    for label, activities in (
        ("read", ("explore",)),
        ("edited", ("edit",)),
        ("commands", ("verify", "build", "vcs", "ship", "run")),
    ):
        set_a = {t for act in activities for t in _targets(a, act)}
        set_b = {t for act in activities for t in _targets(b, act)}
        only_a[label] = sorted(set_a - set_b)
        only_b[label] = sorted(set_b - set_a)
    tools_a = Counter(str(c.get("tool")) for c in tool_calls_of(a))
    tools_b = Counter(str(c.get("tool")) for c in tool_calls_of(b))
    tools = {
        t: (tools_a.get(t, 0), tools_b.get(t, 0))
        for t in sorted(set(tools_a) | set(tools_b), key=lambda t: -(tools_a[t] + tools_b[t]))
    }
    warnings = []
    if a.workflow_id != b.workflow_id:
        warnings.append(
            f"the sessions are of different projects ({a.workflow_id} vs {b.workflow_id})"
        )
    return SessionDiff(
        name_a,
        name_b,
        _figures(a),
        _figures(b),
        only_a,
        only_b,
        tools,
        _phases(a),
        _phases(b),
        warnings,
    )


def _delta(key: str, va: Any, vb: Any) -> str:
    if key.endswith("_ms"):
        shown = f"{_ms_text(va)} -> {_ms_text(vb)}"
    elif key == "cost_usd":
        shown = f"${_num(va):.4f} -> ${_num(vb):.4f}"
    else:
        shown = f"{va if va is not None else '-'} -> {vb if vb is not None else '-'}"
    if isinstance(va, int | float) and isinstance(vb, int | float) and va:
        shown += f" ({(vb - va) / va:+.0%})"
    return shown


def format_session_diff(diff: SessionDiff, markdown: bool = False) -> list[str]:
    bullet = "- " if markdown else "  "
    head = "## " if markdown else ""
    lines = [f"{head}session diff: {diff.name_a} -> {diff.name_b}", ""]
    lines.extend(f"warning: {w}" for w in diff.warnings)
    for key in ("model", "status", "tokens", "output_tokens", "cost_usd", *_FIGURES):
        va, vb = diff.a.get(key), diff.b.get(key)
        mark = "=" if va == vb else "~"
        lines.append(f"{bullet}{mark} {key:<18} {_delta(key, va, vb)}")
    lines.append("")
    for label in ("read", "edited", "commands"):
        for side, items in (("only in A", diff.only_a[label]), ("only in B", diff.only_b[label])):
            if items:
                lines.append(f"{label} {side}:")
                lines.extend(f"{bullet}{item}" for item in items[:30])
                if len(items) > 30:
                    lines.append(f"{bullet}… {len(items) - 30} more")
    lines.append("tool calls (A -> B):")
    for tool, (ca, cb) in diff.tools.items():
        mark = "=" if ca == cb else "~"
        lines.append(f"{bullet}{mark} {tool:<24} {ca} -> {cb}")
    lines.append("phases:")
    lines.append(f"{bullet}A: " + " > ".join(diff.phases_a))
    lines.append(f"{bullet}B: " + " > ".join(diff.phases_b))
    lines.append("")
    lines.append("identical" if diff.identical else "different")
    return lines


def session_rows(records: Sequence[RunRecord]) -> list[SessionRow]:
    return session_stats(records).sessions
