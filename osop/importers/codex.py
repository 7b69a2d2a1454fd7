"""Codex CLI rollouts (``~/.codex/sessions/YYYY/MM/DD/rollout-<time>-<id>.jsonl``).

Current rollouts write one ``{"timestamp", "type", "payload"}`` object per line:

* ``session_meta`` — ``id``, ``cwd``, ``cli_version``, ``git`` …;
* ``turn_context`` — the ``model`` (and policies) of the turn that follows;
* ``response_item`` — what went to or came from the model: ``message`` (role
  ``user``/``assistant``/``developer``), ``reasoning``, ``function_call``
  (``name``, ``arguments`` as a JSON string, ``call_id``), ``function_call_output``,
  ``custom_tool_call`` / ``custom_tool_call_output`` (``apply_patch``),
  ``local_shell_call``, ``web_search_call``;
* ``event_msg`` — ``user_message`` (what the person typed), ``agent_message``,
  ``token_count`` (``info.total_token_usage``: running totals of ``input_tokens``,
  ``cached_input_tokens``, ``output_tokens``, ``reasoning_output_tokens``),
  ``turn_aborted`` (the person interrupted);
* ``compacted`` — the history was compacted.

Older rollouts have a first line with ``id``/``timestamp``/``instructions`` and then
bare response items (no per-line time).  Both are read.

Tokens: each model request ends with a ``token_count`` event; the items since the
previous one are that request's message, and its usage is the growth of the running
totals (a repeated event adds nothing).  OpenAI counts cached prompt tokens inside
``input_tokens``: they are moved to ``cache_read`` so they are priced as such.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from osop.errors import OsopError
from osop.importers.session import (
    AgentMessage,
    AgentSession,
    Compaction,
    Interruption,
    Prompt,
    ToolCall,
    Usage,
    json_objects,
    note_skipped,
)
from osop.record.model import parse_timestamp

__all__ = ["AGENT", "CodexImporter", "find_rollouts", "parse_rollout", "read_rollout"]

AGENT: Final = "codex"

_KNOWN_TOP: Final = frozenset(
    {"session_meta", "turn_context", "response_item", "event_msg", "compacted"}
)
_KNOWN_ITEMS: Final = frozenset(
    {
        "message",
        "reasoning",
        "function_call",
        "function_call_output",
        "custom_tool_call",
        "custom_tool_call_output",
        "local_shell_call",
        "web_search_call",
    }
)
_KNOWN_EVENTS: Final = frozenset(
    {
        "user_message",
        "agent_message",
        "agent_reasoning",
        "agent_reasoning_raw_content",
        "token_count",
        "turn_aborted",
        "task_started",
        "task_complete",
        "exec_command_end",
        "patch_apply_end",
        "entered_review_mode",
        "exited_review_mode",
    }
)
_INJECTED: Final = (
    "<environment_context>",
    "<user_instructions>",
    "# AGENTS.md",
    "<user_shell_command>",
)


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _totals(info: Any) -> tuple[int, int, int, int] | None:
    """(input, cached, output, reasoning) running totals of a token_count event."""
    if not isinstance(info, dict):
        return None
    total = info.get("total_token_usage")
    if not isinstance(total, dict):
        return None
    return (
        _int(total.get("input_tokens")),
        _int(total.get("cached_input_tokens")),
        _int(total.get("output_tokens")),
        _int(total.get("reasoning_output_tokens")),
    )


def _usage_of(delta: tuple[int, int, int, int]) -> Usage:
    inp, cached, out, _reasoning = delta
    cached = min(cached, inp)
    return Usage(input=inp - cached, output=out, cache_creation=0, cache_read=cached)


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            str(b.get("text")) for b in content if isinstance(b, dict) and b.get("text") is not None
        )
    return ""


def _arguments(raw: Any) -> Any:
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return {"raw": raw}
    return raw if raw is not None else {}


def _output_failed(output: Any) -> tuple[bool, str]:
    """(failed, text) of a tool output: JSON with metadata.exit_code, or plain text."""
    text = output if isinstance(output, str) else json.dumps(output, default=str)
    data: Any = None
    if isinstance(output, dict):
        data = output
    elif isinstance(output, str) and output.lstrip().startswith("{"):
        try:
            data = json.loads(output)
        except ValueError:
            data = None
    if isinstance(data, dict):
        meta = data.get("metadata")
        body = data.get("output")
        if isinstance(body, str):
            text = body
        if isinstance(meta, dict) and isinstance(meta.get("exit_code"), int):
            return meta["exit_code"] != 0, text
        if data.get("success") is False:
            return True, text
    first = text.lstrip().splitlines()[0] if text.strip() else ""
    if first.startswith("Exit code:"):
        try:
            return int(first.split(":", 1)[1].strip()) != 0, text
        except ValueError:
            pass
    lowered = text.lstrip().lower()
    return lowered.startswith(("failed to", "error:", "execution error", "aborted")), text


class _Reader:
    def __init__(self, session: AgentSession) -> None:
        self.s = session
        self.model: str | None = None
        self.pending: AgentMessage | None = None
        self.calls: dict[str, ToolCall] = {}
        self.outputs: list[tuple[str, Any, datetime | None]] = []
        self.last_totals: tuple[int, int, int, int] = (0, 0, 0, 0)
        self.event_prompts = False
        self.user_items: list[tuple[datetime | None, str]] = []
        self.count = 0

    # -- the current model request -----------------------------------------------
    def message(self, at: datetime | None) -> AgentMessage:
        if self.pending is None:
            self.count += 1
            self.pending = AgentMessage(f"codex-{self.count}", at, self.model)
            self.s.events.append(self.pending)
        elif at is not None:
            self.pending.at = at
        return self.pending

    def close(self) -> None:
        self.pending = None

    # -- lines ------------------------------------------------------------------------
    def line(self, data: dict[str, Any]) -> None:
        at = parse_timestamp(data.get("timestamp"))
        kind = data.get("type")
        payload = data.get("payload")
        if kind in _KNOWN_TOP and isinstance(payload, dict):
            if kind == "session_meta":
                self.meta(payload)
            elif kind == "turn_context":
                if isinstance(payload.get("model"), str):
                    self.model = payload["model"]
                if self.s.cwd is None and isinstance(payload.get("cwd"), str):
                    self.s.cwd = payload["cwd"]
            elif kind == "response_item":
                self.item(payload, at)
            elif kind == "event_msg":
                self.event(payload, at)
            elif kind == "compacted":
                self.close()
                self.s.events.append(Compaction(at, "auto"))
            return
        if kind is None and (("id" in data and "instructions" in data) or "record_type" in data):
            if "id" in data:  # the first line of an older rollout
                self.meta(data)
            return
        if isinstance(kind, str) and kind in _KNOWN_ITEMS:  # older rollouts: bare items
            self.item(data, at)
            return
        name = str(kind) if kind is not None else "(no type)"
        self.s.unknown_types[name] = self.s.unknown_types.get(name, 0) + 1

    def meta(self, payload: dict[str, Any]) -> None:
        s = self.s
        if isinstance(payload.get("id"), str) and payload["id"]:
            s.session_id = payload["id"]
        if isinstance(payload.get("cli_version"), str):
            s.agent_version = payload["cli_version"]
        if isinstance(payload.get("cwd"), str):
            s.cwd = payload["cwd"]
        git = payload.get("git")
        if isinstance(git, dict) and isinstance(git.get("branch"), str):
            s.git_branch = git["branch"]
        if s.fallback_at is None:
            s.fallback_at = parse_timestamp(payload.get("timestamp"))

    def item(self, item: dict[str, Any], at: datetime | None) -> None:
        kind = item.get("type")
        if kind == "message":
            role = item.get("role")
            text = _text(item.get("content"))
            if role == "user":
                self.user_items.append((at, text))
                if (
                    not self.event_prompts
                    and text.strip()
                    and not text.lstrip().startswith(_INJECTED)
                ):
                    self.close()
                    self.s.events.append(Prompt(at, text))
            elif role == "assistant":
                self.message(at).text.append(text)
        elif kind == "reasoning":
            summary = item.get("summary")
            chars = sum(len(_text([b])) for b in summary) if isinstance(summary, list) else 0
            self.message(at).thinking_chars += chars
        elif kind in ("function_call", "custom_tool_call", "local_shell_call", "web_search_call"):
            self.tool(item, at)
        elif kind in ("function_call_output", "custom_tool_call_output"):
            self.outputs.append((str(item.get("call_id")), item.get("output"), at))
        else:
            name = f"response_item:{kind}"
            self.s.unknown_types[name] = self.s.unknown_types.get(name, 0) + 1

    def tool(self, item: dict[str, Any], at: datetime | None) -> None:
        kind = item.get("type")
        call_id = str(item.get("call_id") or item.get("id") or f"call-{len(self.calls)}")
        if call_id in self.calls:
            return
        if kind == "function_call":
            name = str(item.get("name") or "function")
            tool_input = _arguments(item.get("arguments"))
            command = tool_input.get("command") if isinstance(tool_input, dict) else None
            if isinstance(command, list) and command and command[0] == "apply_patch":
                name, tool_input = "apply_patch", command[1] if len(command) > 1 else ""
        elif kind == "custom_tool_call":
            name = str(item.get("name") or "custom_tool")
            tool_input = item.get("input")
        elif kind == "local_shell_call":
            name = "local_shell"
            action = item.get("action")
            tool_input = {"command": action.get("command")} if isinstance(action, dict) else {}
        else:
            name = "web_search"
            action = item.get("action")
            tool_input = {"query": action.get("query")} if isinstance(action, dict) else {}
        call = ToolCall(call_id=call_id, name=name, input=tool_input, started_at=at)
        if kind == "web_search_call":  # answered in the same item
            call.answered = True
            call.ended_at = at
            call.is_error = item.get("status") not in (None, "completed")
        self.calls[call_id] = call
        self.message(at).tool_calls.append(call)

    def event(self, payload: dict[str, Any], at: datetime | None) -> None:
        kind = payload.get("type")
        if kind == "user_message":
            text = payload.get("message")
            if isinstance(text, str) and text.strip():
                if not self.event_prompts:
                    self.event_prompts = True
                    # prompts taken from response items so far were the same ones
                    self.s.events = [e for e in self.s.events if not isinstance(e, Prompt)]
                self.close()
                self.s.events.append(Prompt(at, text))
        elif kind == "token_count":
            totals = _totals(payload.get("info"))
            if totals is None or totals == self.last_totals:
                return  # rate-limit-only or repeated event: nothing new
            delta = tuple(b - a for a, b in zip(self.last_totals, totals, strict=True))
            if any(d < 0 for d in delta):  # totals restarted: the new ones are all new
                delta = totals
            self.last_totals = totals
            message = self.message(at)
            message.usage.add(_usage_of(delta))  # type: ignore[arg-type]
            message.model = message.model or self.model
            self.close()
        elif kind == "turn_aborted":
            self.close()
            self.s.events.append(Interruption(at))
        elif kind not in _KNOWN_EVENTS:
            name = f"event_msg:{kind}"
            self.s.unknown_types[name] = self.s.unknown_types.get(name, 0) + 1

    def finish(self) -> None:
        for call_id, output, at in self.outputs:
            call = self.calls.get(call_id)
            if call is None:
                continue
            failed, text = _output_failed(output)
            call.answered = True
            call.ended_at = at or call.started_at
            call.output = text
            if text.strip().lower().startswith("aborted"):
                call.interrupted = True
            else:
                call.is_error = failed


def parse_rollout(lines: Iterable[str | bytes], *, source: str | None = None) -> AgentSession:
    """One Codex rollout as an :class:`AgentSession` (unknown lines counted, never fatal)."""
    session = AgentSession(AGENT, "", source=source)
    reader = _Reader(session)
    for data in json_objects(lines, session):
        reader.line(data)
    reader.finish()
    if not session.session_id:
        session.session_id = (source or "rollout").removesuffix(".jsonl")
    note_skipped(session)
    return session


def read_rollout(path: str | Path) -> AgentSession:
    file = Path(path)
    try:
        lines = file.read_bytes().splitlines()
        mtime = datetime.fromtimestamp(file.stat().st_mtime, UTC)
    except OSError as exc:
        raise OsopError(f"cannot read {file}: {exc}") from exc
    session = parse_rollout(lines, source=file.name)
    session.fallback_at = session.fallback_at or mtime
    return session


def find_rollouts(path: str | Path) -> list[Path]:
    root = Path(path)
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise OsopError(f"no such file or folder: {root}")
    return sorted(root.rglob("rollout-*.jsonl"))


class CodexImporter:
    """``osop import codex``: a rollout file, or a folder searched for ``rollout-*.jsonl``."""

    name = AGENT
    description = "Codex CLI rollouts (~/.codex/sessions/**/rollout-*.jsonl)"

    def sessions(self, path: Path) -> Iterator[AgentSession]:
        for rollout in find_rollouts(path):
            yield read_rollout(rollout)
