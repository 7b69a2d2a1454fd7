"""Turn an :class:`~osop.importers.session.AgentSession` into ``.osoplog`` records.

The shape (docs/agent-sessions.md has the whole story):

* a ``human`` node per prompt (``turn_N_prompt``): its length and SHA-256, or its
  text with ``include_content``; ``human_metadata.response_time_ms`` is how long
  the agent sat waiting for it;
* between prompts, a node per **phase**: consecutive model messages whose tool
  calls are of one kind (``turn_N_M_explore``, ``…_edit``, ``…_run``, ``…_web``,
  ``…_mcp``, ``…_delegate``, ``…_plan``); messages without tool calls join the
  phase they lead into, and the words that end a turn are a ``reason`` phase;
* per phase: tokens of each message (counted once), cost from the price table,
  ``tools_used`` and ``x-tool-calls`` (one entry per call: tool, target, duration
  from call to result, error flag, retry flag);
* a failed call re-run the same way in the same phase splits the phase: the attempt
  that ended with the failure is FAILED, the re-run starts attempt + 1;
  a phase that ends on a failed call is FAILED; an interrupted phase is CANCELLED;
* sub-agents are child runs (their own records), linked from the phase that
  started them (``x-child-runs``; ``x-parent-run`` in the child) — their tokens
  are theirs, never added to the parent's;
* durations exclude the time the agent waited for the person (``x-session``
  reports it as ``human_wait_ms``); compactions are marker nodes.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from osop.importers.activity import (
    NODE_TYPE_OF_KIND,
    activity_of,
    call_key,
    phase_kind,
    target_of,
)
from osop.importers.session import (
    AgentMessage,
    AgentSession,
    Compaction,
    Interruption,
    Prompt,
    ToolCall,
    Usage,
)
from osop.llm.prices import PriceTable, load_table
from osop.record.model import ErrorInfo, NodeRecord, RunRecord
from osop.security.redact import Redactor, is_secret_key, mask_secret_like, secret_like_values

__all__ = ["BuildOptions", "build_records", "run_id_for"]

_CONTENT_LIMIT = 4000
_ID_NAMESPACE = uuid.UUID("6f1d3c0e-9a55-4c1b-8a38-0c2f5e0b7a11")


@dataclass(frozen=True)
class BuildOptions:
    include_content: bool = False
    prices: str | Path | None = None


def run_id_for(agent: str, session_id: str, agent_id: str | None = None) -> str:
    """A UUID v4-shaped id derived from the session (re-importing gives the same id)."""
    if agent_id is None:
        try:
            parsed = uuid.UUID(session_id)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.version == 4:
            return str(parsed)
    digest = hashlib.sha256(f"{agent}\x00{session_id}\x00{agent_id or ''}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def _iso(at: datetime | None) -> str | None:
    if at is None:
        return None
    text = at.isoformat(timespec="milliseconds" if at.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def _ms(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round(max(0.0, (end - start).total_seconds() * 1000.0), 3)


def _kebab(text: str) -> str:
    out = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    out = re.sub(r"^[^a-z]+", "", out)
    return out[:80]


def _env_secrets() -> set[str]:
    """Values of secret-named environment variables (a key typed into a command)."""
    return {
        value
        for name, value in os.environ.items()
        if (is_secret_key(name) or name.upper().endswith("_KEY")) and len(value) >= 8
    }


@dataclass
class _Phase:
    kind: str
    messages: list[AgentMessage] = field(default_factory=list)
    attempt: int = 1
    status: str = "COMPLETED"
    started_at: datetime | None = None
    error: ErrorInfo | None = None
    #: When a phase without messages ended (an interruption while the model thought).
    end_hint: datetime | None = None
    #: Keys of the calls that failed in this attempt (a re-run of one starts the next).
    failed_keys: set[str] = field(default_factory=set)

    def add(self, messages: list[AgentMessage]) -> None:
        self.messages.extend(messages)
        for message in messages:
            for call in message.tool_calls:
                if call.is_error:
                    self.failed_keys.add(call_key(call.name, call.input))

    @property
    def calls(self) -> list[ToolCall]:
        return [c for m in self.messages for c in m.tool_calls]

    def ended_at(self) -> datetime | None:
        times = [m.at for m in self.messages if m.at is not None]
        if self.end_hint is not None:
            times.append(self.end_hint)
        times += [c.ended_at for c in self.calls if c.ended_at is not None]
        return max(times) if times else self.started_at


def _message_kind(message: AgentMessage) -> str | None:
    if not message.tool_calls:
        return None
    kinds = Counter(phase_kind(c.name) for c in message.tool_calls)
    first = phase_kind(message.tool_calls[0].name)
    top = max(kinds.values())
    return first if kinds[first] == top else kinds.most_common(1)[0][0]


@dataclass
class _Turn:
    prompt: Prompt | None
    items: list[AgentMessage | Interruption | Compaction] = field(default_factory=list)


def _turns(session: AgentSession) -> list[_Turn]:
    turns: list[_Turn] = []
    current: _Turn | None = None
    for event in session.events:
        if isinstance(event, Prompt):
            current = _Turn(event)
            turns.append(current)
            continue
        if current is None:
            current = _Turn(None)
            turns.append(current)
        current.items.append(event)
    return turns


class _Builder:
    def __init__(self, session: AgentSession, options: BuildOptions, prices: PriceTable) -> None:
        self.s = session
        self.opt = options
        self.prices = prices
        self.known_secrets = _env_secrets()
        self.records: list[NodeRecord] = []
        self.children: dict[str, list[str]] = {}
        self.child_records: list[RunRecord] = []
        self.run_id = run_id_for(session.agent, session.session_id, session.agent_id)
        self.unpriced: set[str] = set()
        self.human_wait_ms = 0.0
        self.retries = 0
        self.failed_calls = 0
        self.interruptions = 0
        self.compactions = 0
        self.model_tokens: Counter[str] = Counter()
        self.first_edit_at: datetime | None = None
        self.origin: datetime | None = None

    # -- text handling ------------------------------------------------------------
    def mask(self, text: str) -> str:
        return mask_secret_like(text, self.known_secrets)

    def content(self, value: Any) -> Any:
        """Tool input/output kept with ``include_content``: secrets masked, size capped."""
        if isinstance(value, str):
            text = value if len(value) <= _CONTENT_LIMIT else value[:_CONTENT_LIMIT] + "…"
            return self.mask(text)
        found: set[str] = set(self.known_secrets)
        _collect_secrets(value, found)
        return Redactor(found)(_cap(value))

    # -- building -----------------------------------------------------------------
    def build(self) -> list[RunRecord]:
        times = [t for t in (_event_time(e) for e in self.s.events) if t is not None]
        # Every node needs a start time; a transcript without any gets the file's.
        self.origin = min(times) if times else None
        if self.origin is None:
            self.origin = self.s.fallback_at or datetime(1970, 1, 1, tzinfo=UTC)
            self.s.notes.append("the transcript has no timestamps: times are unknown")
        turns = _turns(self.s)
        last_active: datetime | None = None
        for number, turn in enumerate(turns, start=1):
            if turn.prompt is not None:
                wait = _ms(last_active, turn.prompt.at) if last_active is not None else None
                if wait:
                    self.human_wait_ms += wait
                self._prompt_node(number, turn.prompt, wait)
                if turn.prompt.at is not None:
                    last_active = turn.prompt.at
            end = self._turn_work(number, turn, last_active)
            if end is not None:
                last_active = end
        return [self._run_record(), *self.child_records]

    def _prompt_node(self, number: int, prompt: Prompt, wait: float | None) -> None:
        if self.opt.include_content:
            inputs: dict[str, Any] = {"prompt": self.mask(prompt.text)}
        else:
            inputs = {
                "prompt_chars": len(prompt.text),
                "prompt_sha256": hashlib.sha256(prompt.text.encode("utf-8")).hexdigest(),
            }
        if self.s.agent_id is not None and number == 1:
            # A sub-agent's first prompt is its task, written by the parent agent.
            self._instant("task", "event", prompt.at, inputs=inputs)
            return
        human: dict[str, Any] = {"actor": "user"}
        if wait is not None:
            human["response_time_ms"] = wait
        self._instant(
            f"turn_{number}_prompt", "human", prompt.at, inputs=inputs, human_metadata=human
        )

    def _turn_work(self, number: int, turn: _Turn, start: datetime | None) -> datetime | None:
        phases: list[_Phase] = []
        pending: list[AgentMessage] = []
        failed_in_turn: set[str] = set()
        cursor = start
        seq = 0

        def close(phase: _Phase) -> None:
            nonlocal cursor, seq
            seq += 1 if phase.attempt == 1 else 0
            self._emit(number, seq, phase, failed_in_turn)
            cursor = phase.ended_at() or cursor
            phases.append(phase)

        current: _Phase | None = None
        for item in turn.items:
            if isinstance(item, Compaction):
                if current is not None:
                    close(current)
                    current = None
                self._compaction_node(item)
                continue
            if isinstance(item, Interruption):
                self.interruptions += 1
                target = current
                if target is not None and all(
                    c.answered and not c.interrupted for c in target.calls
                ):
                    close(target)  # its calls were done: the model was thinking
                    target = current = None
                if target is None:
                    # Stopped while the model was thinking (nothing written yet): that
                    # thinking time is a reasoning phase of its own, cut short.
                    target = _Phase("reason", pending, started_at=cursor)
                    target.end_hint = item.at
                    pending = []
                target.status = "CANCELLED"
                target.error = ErrorInfo("INTERRUPTED", "the person interrupted the agent")
                close(target)
                current = None
                continue
            kind = _message_kind(item)
            if kind is None:
                pending.append(item)
                continue
            if current is not None and current.kind == kind:
                if self._reruns_failure(current, item):
                    current.status = "FAILED"
                    nxt = _Phase(kind, attempt=current.attempt + 1)
                    close(current)
                    nxt.started_at = cursor
                    nxt.add([*pending, item])
                    current = nxt
                else:
                    current.add([*pending, item])
                pending = []
                continue
            if current is not None:
                close(current)
            current = _Phase(kind, started_at=cursor)
            current.add([*pending, item])
            pending = []
        if current is not None:
            close(current)
        if pending:
            close(_Phase("reason", pending, started_at=cursor))
        return cursor

    def _reruns_failure(self, phase: _Phase, message: AgentMessage) -> bool:
        if not phase.failed_keys:
            return False
        return any(call_key(c.name, c.input) in phase.failed_keys for c in message.tool_calls)

    def _compaction_node(self, item: Compaction) -> None:
        self.compactions += 1
        outputs: dict[str, Any] = {}
        if item.trigger:
            outputs["trigger"] = item.trigger
        if item.pre_tokens is not None:
            outputs["pre_tokens"] = item.pre_tokens
        self._instant(
            f"compaction_{self.compactions}",
            "system",
            item.at,
            outputs=outputs or None,
            extra={"x-marker": "compaction"},
        )

    def _instant(self, node_id: str, node_type: str, at: datetime | None, **fields: Any) -> None:
        """A node that takes no time: a prompt, a task handed over, a marker."""
        when = _iso(at or self.origin)
        self.records.append(
            NodeRecord(
                node_id=node_id,
                node_type=node_type,
                status="COMPLETED",
                attempt=1,
                started_at=when,
                ended_at=when,
                duration_ms=0.0,
                **fields,
            )
        )

    def _emit(self, turn: int, seq: int, phase: _Phase, failed_in_turn: set[str]) -> None:
        node_id = f"turn_{turn}_{seq}_{phase.kind}"
        usage = Usage()
        cost = 0.0
        priced = True
        models: Counter[str] = Counter()
        text_chars = thinking = 0
        texts: list[str] = []
        for message in phase.messages:
            usage.add(message.usage)
            model = message.model or ""
            models[model] += 1
            self.model_tokens[model] += message.usage.total
            price = self.prices.lookup(message.model)
            if price is None:
                if message.usage.total:
                    priced = False
                    self.unpriced.add(model or "(no model)")
            else:
                cost += price.cost(
                    message.usage.input,
                    message.usage.output,
                    message.usage.cache_creation,
                    message.usage.cache_read,
                )
            text_chars += sum(len(t) for t in message.text)
            thinking += message.thinking_chars
            texts.extend(message.text)
        entries: list[dict[str, Any]] = []
        tools: Counter[str] = Counter()
        last_call: ToolCall | None = None
        for call in phase.calls:
            tools[call.name] += 1
            entries.append(self._call_entry(node_id, call, failed_in_turn))
            last_call = call
        status = phase.status
        error = phase.error
        if status == "COMPLETED" and last_call is not None and last_call.is_error:
            status = "FAILED"
        if status == "FAILED" and error is None:
            failing = next((c for c in reversed(phase.calls) if c.is_error), None)
            if failing is not None:
                what = target_of(failing.name, failing.input, self.s.cwd)
                error = ErrorInfo(
                    "TOOL_ERROR", f"{failing.name} failed" + (f": {what}" if what else "")
                )
        main_model = models.most_common(1)[0][0] if models else None
        ai: dict[str, Any] = {
            "model": main_model or None,
            "provider": self._provider(main_model),
            "prompt_tokens": usage.prompt,
            "completion_tokens": usage.output,
            **usage.to_dict(),
            "messages": len(phase.messages),
        }
        ai = {k: v for k, v in ai.items() if v is not None}
        if priced:
            ai["cost_usd"] = round(cost, 8)
        outputs: dict[str, Any] = {"text_chars": text_chars} if text_chars else {}
        if thinking:
            outputs["thinking_chars"] = thinking
        if self.opt.include_content and texts:
            outputs["text"] = self.content("\n\n".join(texts))
        start = phase.started_at or next((m.at for m in phase.messages if m.at), self.origin)
        end = phase.ended_at() or start
        extra: dict[str, Any] = {"x-phase": phase.kind}
        if entries:
            extra["x-tool-calls"] = entries
        if phase.kind == "edit" and self.first_edit_at is None:
            self.first_edit_at = min(
                (c.started_at for c in phase.calls if c.started_at is not None), default=end
            )
        self.records.append(
            NodeRecord(
                node_id=node_id,
                node_type=NODE_TYPE_OF_KIND.get(phase.kind, "agent"),
                status=status,
                attempt=phase.attempt,
                started_at=_iso(start),
                ended_at=_iso(end),
                duration_ms=_ms(start, end),
                outputs=outputs or None,
                error=error,
                ai_metadata=ai,
                tools_used=tuple({"tool": t, "calls": n} for t, n in tools.items()),
                extra=extra,
            )
        )

    def _provider(self, model: str | None) -> str | None:
        price = self.prices.lookup(model)
        if price is not None and price.provider:
            return price.provider
        return {"claude-code": "anthropic", "codex": "openai"}.get(self.s.agent)

    def _call_entry(self, node_id: str, call: ToolCall, failed_in_turn: set[str]) -> dict[str, Any]:
        key = call_key(call.name, call.input)
        entry: dict[str, Any] = {
            "tool": call.name,
            "target": target_of(call.name, call.input, self.s.cwd),
            "activity": activity_of(call.name, call.input),
            "started_at": _iso(call.started_at),
            "duration_ms": _ms(call.started_at, call.ended_at),
            "error": call.is_error,
        }
        if key in failed_in_turn:
            entry["retry"] = True
            self.retries += 1
        if call.is_error:
            self.failed_calls += 1
            failed_in_turn.add(key)
        if call.interrupted:
            entry["interrupted"] = True
        if not call.answered and not call.interrupted:
            entry["answered"] = False
        if self.opt.include_content:
            entry["input"] = self.content(call.input)
            if call.output is not None:
                entry["output"] = self.content(call.output)
        if call.child is not None:
            child_records = build_records(call.child, self.opt, parent=(self.run_id, node_id))
            child_id = child_records[0].run_id
            entry["child_run_id"] = child_id
            self.children.setdefault(node_id, []).append(child_id)
            self.child_records.extend(child_records)
        return entry

    def _run_record(self) -> RunRecord:
        s = self.s
        for orphan in s.orphans:
            child_records = build_records(orphan, self.opt, parent=(self.run_id, None))
            self.children.setdefault("", []).append(child_records[0].run_id)
            self.child_records.extend(child_records)
        times = [parse for parse in (_event_time(e) for e in s.events) if parse is not None]
        started = min(times) if times else self.origin
        ended = max(
            [
                *times,
                *(c.ended_at for c in s.tool_calls if c.ended_at is not None),
            ],
            default=None,
        )
        wall = _ms(started, ended)
        active = None if wall is None else round(max(0.0, wall - self.human_wait_ms), 3)
        usage = s.usage()
        children_usage = Usage()
        for child in self.child_records:
            tokens = (child.extra.get("x-session") or {}).get("tokens") or {}
            if (child.extra.get("x-parent-run") or {}).get("run_id") == self.run_id:
                children_usage.add(
                    Usage(
                        int(tokens.get("input_tokens", 0)),
                        int(tokens.get("output_tokens", 0)),
                        int(tokens.get("cache_creation_input_tokens", 0)),
                        int(tokens.get("cache_read_input_tokens", 0)),
                    )
                )
        main_model = self.model_tokens.most_common(1)[0][0] if self.model_tokens else None
        breakdown: dict[str, float] = {}
        for rec in self.records:
            if rec.ai_metadata and "cost_usd" in rec.ai_metadata:
                breakdown[rec.node_id] = breakdown.get(rec.node_id, 0.0) + rec.cost_usd
        total_cost = round(sum(breakdown.values()), 8)
        calls = s.tool_calls
        status = "COMPLETED"
        if self.records and self.records[-1].status == "CANCELLED":
            status = "CANCELLED"
        runtime: dict[str, Any] = {
            "agent": s.agent,
            "agent_version": s.agent_version,
            "model": main_model or None,
            "session_id": s.session_id,
        }
        session_info: dict[str, Any] = {
            "source": s.source,
            "cwd": s.cwd,
            "git_branch": s.git_branch,
            "title": self.mask(s.title) if s.title else None,
            "prompts": sum(1 for e in s.events if isinstance(e, Prompt)),
            "messages": len(s.messages),
            "tool_calls": len(calls),
            "failed_tool_calls": self.failed_calls,
            "retries": self.retries,
            "interruptions": self.interruptions,
            "compactions": self.compactions,
            "human_wait_ms": round(self.human_wait_ms, 3),
            "active_ms": active,
            "wall_ms": wall,
            "first_edit_ms": _ms(started, self.first_edit_at)
            if self.first_edit_at is not None
            else None,
            "tokens": usage.to_dict(),
            "tokens_with_subagents": _plus(usage, children_usage).to_dict(),
            "lines": s.lines,
            "unknown_lines": dict(s.unknown_types),
            "bad_lines": s.bad_lines,
            "prices_as_of": self.prices.as_of,
        }
        if s.agent_id is not None:
            session_info["agent_id"] = s.agent_id
        if self.unpriced:
            session_info["unpriced_models"] = sorted(self.unpriced)
        if s.notes:
            session_info["notes"] = list(s.notes)
        extra: dict[str, Any] = {
            "x-session": {k: v for k, v in session_info.items() if v is not None}
        }
        if self.children:
            extra["x-child-runs"] = {
                node: ids[0] if len(ids) == 1 else ids for node, ids in self.children.items()
            }
        if self.parent is not None:
            extra["x-parent-run"] = {"run_id": self.parent[0], "node_id": self.parent[1]}
        records = tuple(self.records) or (
            NodeRecord(
                node_id="session",
                node_type="agent",
                status="SKIPPED",
                attempt=1,
                started_at=_iso(started),
            ),
        )
        summary = (
            f"{session_info['prompts']} prompt(s), {len(calls)} tool call(s)"
            f" ({self.failed_calls} failed, {self.retries} retried), "
            f"{usage.total} tokens"
            + (f", ${total_cost:.4f}" if not self.unpriced else ", cost partly unknown")
        )
        project = _kebab(Path(s.cwd).name) if s.cwd else ""
        workflow_id = f"{s.agent}-{project}" if project else f"{s.agent}-session"
        if s.agent_id is not None:
            workflow_id = f"{workflow_id[:110]}-subagent"
        return RunRecord(
            run_id=self.run_id,
            workflow_id=workflow_id[:128],
            status=status,
            started_at=_iso(started),
            node_records=records,
            mode="live",
            trigger={"type": "manual", "actor": "user", "timestamp": _iso(started)},
            ended_at=_iso(ended),
            duration_ms=active,
            runtime={k: v for k, v in runtime.items() if v is not None},
            result_summary=summary,
            cost={
                "total_usd": total_cost,
                "breakdown": [
                    {"node_id": n, "cost_usd": round(c, 8)}
                    for n, c in sorted(breakdown.items(), key=lambda kv: -kv[1])
                ],
            },
            extra=extra,
        )

    parent: tuple[str, str | None] | None = None


def _plus(a: Usage, b: Usage) -> Usage:
    out = Usage()
    out.add(a)
    out.add(b)
    return out


def _event_time(event: Any) -> datetime | None:
    at = getattr(event, "at", None)
    return at if isinstance(at, datetime) else None


def _collect_secrets(value: Any, found: set[str]) -> None:
    if isinstance(value, str):
        found.update(secret_like_values(value))
    elif isinstance(value, dict):
        for item in value.values():
            _collect_secrets(item, found)
    elif isinstance(value, list | tuple):
        for item in value:
            _collect_secrets(item, found)


def _cap(value: Any) -> Any:
    if isinstance(value, str):
        return value if len(value) <= _CONTENT_LIMIT else value[:_CONTENT_LIMIT] + "…"
    if isinstance(value, dict):
        return {k: _cap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_cap(v) for v in value]
    return value


def build_records(
    session: AgentSession,
    options: BuildOptions | None = None,
    *,
    parent: tuple[str, str | None] | None = None,
) -> list[RunRecord]:
    """The session's record first, then one record per sub-agent (recursively)."""
    opts = options or BuildOptions()
    builder = _Builder(session, opts, load_table(opts.prices))
    builder.parent = parent
    return builder.build()
