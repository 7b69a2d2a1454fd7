"""Claude Code transcripts (``~/.claude/projects/<slug>/<session-id>.jsonl``).

One JSON object per line.  The lines that matter:

* ``type: user`` — ``message.content`` is a string or a list of blocks: ``text``
  (what the person typed), ``tool_result`` (``tool_use_id``, ``content``,
  ``is_error``), ``image``.  ``isMeta`` lines are injected by the tool, not typed;
  ``isCompactSummary`` lines carry the summary written at a compaction;
  ``[Request interrupted by user…]`` marks an interruption.
* ``type: assistant`` — ``message`` is a model response (``id``, ``model``,
  ``content`` blocks ``text`` / ``thinking`` / ``tool_use``, ``usage``).  A response
  is streamed as several lines that share ``message.id``, each with some of the
  blocks; the usage grows to its final value, so each count is the largest seen.
* ``type: system`` with ``subtype: compact_boundary`` (``compactMetadata``:
  ``trigger``, ``preTokens``) — a compaction.
* ``type: summary`` — a title; ``file-history-snapshot``, ``queue-operation`` and
  other ``system`` lines are bookkeeping.
* ``isSidechain: true`` lines belong to a sub-agent (``agentId``); newer versions
  write each sub-agent to ``<session-id>/subagents/agent-<agentId>.jsonl``, older
  ones to ``agent-<agentId>.jsonl`` beside the session.

Anything else — a type never seen, a field added by a newer version, a line that
is not JSON — is counted and skipped, never fatal.
"""

from __future__ import annotations

import contextlib
import json
import re
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
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

__all__ = [
    "AGENT",
    "ClaudeCodeImporter",
    "find_sessions",
    "link_subagents",
    "parse_lines",
    "read_session",
]

AGENT: Final = "claude-code"

_KNOWN_TYPES: Final = frozenset(
    {"user", "assistant", "system", "summary", "file-history-snapshot", "queue-operation"}
)
_DELEGATION_TOOLS: Final = frozenset({"task", "agent"})
_INTERRUPTED: Final = "[Request interrupted by user"
_REJECTED: Final = ("The user doesn't want to proceed", "The user doesn't want to take this action")
_NOT_TYPED: Final = (
    "<local-command-stdout>",
    "<local-command-stderr>",
    "Caveat: The messages below",
)
#: Reminders the tool adds to a prompt; not typed by the person.
_REMINDER: Final = re.compile(r"<system-reminder>.*?</system-reminder>\s*", re.DOTALL)
_AGENT_ID_TEXT: Final = re.compile(r"\bagentId:\s*([A-Za-z0-9_\-]+)")


@dataclass
class _Line:
    index: int
    data: dict[str, Any]
    at: datetime | None


def _load_lines(lines: Iterable[str | bytes], session: AgentSession) -> list[_Line]:
    out: list[_Line] = []
    seen_uuids: set[str] = set()
    last_at: datetime | None = None
    for index, data in enumerate(json_objects(lines, session)):
        uid = data.get("uuid")
        if isinstance(uid, str):
            if uid in seen_uuids:  # the same line written twice (resumed sessions copy history)
                continue
            seen_uuids.add(uid)
        at = parse_timestamp(data.get("timestamp"))
        if at is None:
            at = last_at
        else:
            last_at = at
        out.append(_Line(index, data, at))
    # Lines are written in order; a stable sort by time repairs files stitched together.
    out.sort(key=lambda line: (line.at is None, line.at or datetime.min, line.index))
    return out


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for block in content:
            if isinstance(block, dict):
                if isinstance(block.get("text"), str):
                    parts.append(block["text"])
                elif block.get("type") == "image":
                    parts.append("[image]")
            elif isinstance(block, str):
                parts.append(block)
        return "\n".join(parts)
    return ""


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _usage(value: Any) -> Usage:
    if not isinstance(value, dict):
        return Usage()
    return Usage(
        input=_int(value.get("input_tokens")),
        output=_int(value.get("output_tokens")),
        cache_creation=_int(value.get("cache_creation_input_tokens")),
        cache_read=_int(value.get("cache_read_input_tokens")),
    )


class _Walker:
    """Builds the events of one thread (the main session or one sub-agent)."""

    def __init__(self, session: AgentSession) -> None:
        self.s = session
        self.messages: dict[str, AgentMessage] = {}
        self.blocks_seen: dict[str, set[str]] = {}
        self.calls: dict[str, ToolCall] = {}
        self.results: list[tuple[dict[str, Any], _Line]] = []

    def walk(self, lines: Sequence[_Line]) -> None:
        for line in lines:
            data = line.data
            kind = data.get("type")
            self._context(data)
            if kind == "assistant":
                self._assistant(line)
            elif kind == "user":
                self._user(line)
            elif kind == "system":
                if data.get("subtype") == "compact_boundary":
                    meta = data.get("compactMetadata")
                    meta = meta if isinstance(meta, dict) else {}
                    pre = meta.get("preTokens")
                    self.s.events.append(
                        Compaction(
                            line.at,
                            str(meta["trigger"]) if meta.get("trigger") else None,
                            pre if isinstance(pre, int) else None,
                        )
                    )
            elif kind == "summary":
                if self.s.title is None and isinstance(data.get("summary"), str):
                    self.s.title = data["summary"]
            elif kind not in _KNOWN_TYPES:
                name = str(kind) if kind is not None else "(no type)"
                self.s.unknown_types[name] = self.s.unknown_types.get(name, 0) + 1
        for block, line in self.results:
            self._attach(block, line)

    def _context(self, data: dict[str, Any]) -> None:
        s = self.s
        if s.agent_version is None and isinstance(data.get("version"), str):
            s.agent_version = data["version"]
        if s.cwd is None and isinstance(data.get("cwd"), str):
            s.cwd = data["cwd"]
        if s.git_branch is None and isinstance(data.get("gitBranch"), str) and data["gitBranch"]:
            s.git_branch = data["gitBranch"]

    def _assistant(self, line: _Line) -> None:
        message = line.data.get("message")
        if not isinstance(message, dict):
            self.s.bad_lines += 1
            return
        mid = message.get("id") or line.data.get("uuid") or f"line-{line.index}"
        mid = str(mid)
        model = message.get("model") if isinstance(message.get("model"), str) else None
        current = self.messages.get(mid)
        if current is None:
            current = AgentMessage(mid, line.at, model)
            self.messages[mid] = current
            self.blocks_seen[mid] = set()
            self.s.events.append(current)
        else:
            if line.at is not None and (current.at is None or line.at > current.at):
                current.at = line.at
            current.model = current.model or model
        current.usage.merge_max(_usage(message.get("usage")))
        content = message.get("content")
        if isinstance(content, str):
            content = [{"type": "text", "text": content}]
        if not isinstance(content, list):
            return
        seen = self.blocks_seen[mid]
        for block in content:
            if not isinstance(block, dict):
                continue
            btype = block.get("type")
            if btype == "tool_use" or btype == "server_tool_use":
                call_id = str(block.get("id") or f"{mid}-{len(current.tool_calls)}")
                if call_id in self.calls:
                    continue
                call = ToolCall(
                    call_id=call_id,
                    name=str(block.get("name") or "unknown"),
                    input=block.get("input") if block.get("input") is not None else {},
                    started_at=line.at,
                )
                self.calls[call_id] = call
                current.tool_calls.append(call)
                continue
            # A block repeated on another line of the same message counts once.
            if (
                isinstance(btype, str)
                and btype.endswith("_tool_result")
                and block.get("tool_use_id")
            ):
                # a server tool (web search run by the API) answers in the same message
                self.results.append(({**block, "type": "tool_result"}, line))
                continue
            key = f"{btype}\x00{block.get('text') or block.get('thinking') or block.get('data')}"
            if key in seen:
                continue
            seen.add(key)
            if btype == "text" and isinstance(block.get("text"), str):
                current.text.append(block["text"])
            elif btype in ("thinking", "redacted_thinking"):
                current.thinking_chars += len(str(block.get("thinking") or block.get("data") or ""))

    def _user(self, line: _Line) -> None:
        data = line.data
        message = data.get("message")
        content = message.get("content") if isinstance(message, dict) else None
        blocks = content if isinstance(content, list) else []
        results = [b for b in blocks if isinstance(b, dict) and b.get("type") == "tool_result"]
        for block in results:
            self.results.append((block, line))
        if results:
            return
        if (
            data.get("isMeta")
            or data.get("isCompactSummary")
            or data.get("isVisibleInTranscriptOnly")
        ):
            return
        text = _REMINDER.sub("", _text_of(content))
        stripped = text.strip()
        if stripped.startswith(_INTERRUPTED):
            self.s.events.append(Interruption(line.at))
            return
        if not stripped or stripped.startswith(_NOT_TYPED):
            return
        self.s.events.append(Prompt(line.at, text))

    def _attach(self, block: dict[str, Any], line: _Line) -> None:
        call = self.calls.get(str(block.get("tool_use_id")))
        if call is None:
            return
        output = _text_of(block.get("content"))
        call.answered = True
        if line.at is not None and (call.ended_at is None or line.at > call.ended_at):
            call.ended_at = line.at
        call.output = output
        content = block.get("content")
        if isinstance(content, dict) and str(content.get("type", "")).endswith("_error"):
            call.is_error = True  # a server tool's error is an object, not is_error
        if output.strip().startswith(_REJECTED) or output.strip().startswith(_INTERRUPTED):
            call.interrupted = True
        elif block.get("is_error") is True:
            call.is_error = True
        if call.name.lower() in _DELEGATION_TOOLS:
            extra = line.data.get("toolUseResult")
            if isinstance(extra, dict) and isinstance(extra.get("agentId"), str):
                call.child_ref = extra["agentId"]
            else:
                found = _AGENT_ID_TEXT.search(output)
                if found:
                    call.child_ref = found.group(1)


def _thread_key(line: _Line, roots: dict[str, str]) -> str:
    agent = line.data.get("agentId")
    if isinstance(agent, str) and agent:
        return agent
    uid = line.data.get("uuid")
    return roots.get(str(uid), str(uid))


def _sidechain_roots(lines: Sequence[_Line]) -> dict[str, str]:
    """uuid → the uuid at the root of its sidechain (old transcripts without agentId)."""
    parent = {str(line.data.get("uuid")): str(line.data.get("parentUuid")) for line in lines}
    roots: dict[str, str] = {}
    for uid in parent:
        node, hops = uid, 0
        while parent.get(node) in parent and hops <= len(parent):
            node = parent[node]
            hops += 1
        roots[uid] = node
    return roots


def parse_lines(
    lines: Iterable[str | bytes],
    *,
    source: str | None = None,
    session_id: str | None = None,
    agent_id: str | None = None,
) -> AgentSession:
    """One transcript (a session or a sub-agent file) as an :class:`AgentSession`.

    Sidechain lines in the same file become sub-agent sessions attached to the
    delegation call that started them (or kept as orphans when none matches).
    """
    session = AgentSession(AGENT, session_id or "", source=source, agent_id=agent_id)
    loaded = _load_lines(lines, session)
    main: list[_Line] = []
    side: list[_Line] = []
    for line in loaded:
        is_side = line.data.get("isSidechain") is True and agent_id is None
        (side if is_side else main).append(line)
    ids = Counter(
        str(line.data["sessionId"])
        for line in loaded
        if isinstance(line.data.get("sessionId"), str)
    )
    if not session.session_id or (not _is_uuid(session.session_id) and ids):
        session.session_id = ids.most_common(1)[0][0] if ids else (source or "session")
    _Walker(session).walk(main)
    if agent_id is not None:
        first = next((e for e in session.events if isinstance(e, Prompt)), None)
        session.task_prompt = first.text if first is not None else None
    if side:
        roots = _sidechain_roots(side)
        threads: dict[str, list[_Line]] = {}
        for line in side:
            threads.setdefault(_thread_key(line, roots), []).append(line)
        subs = []
        for key, thread in threads.items():
            sub = AgentSession(
                AGENT,
                session.session_id,
                source=source,
                agent_id=key,
                agent_version=session.agent_version,
            )
            sub.lines = len(thread)
            _Walker(sub).walk(thread)
            first = next((e for e in sub.events if isinstance(e, Prompt)), None)
            sub.task_prompt = first.text if first is not None else None
            subs.append(sub)
        link_subagents(session, subs)
    note_skipped(session)
    return session


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _start(session: AgentSession) -> datetime | None:
    times = [e.at for e in session.events if getattr(e, "at", None) is not None]
    return min(times) if times else None  # type: ignore[type-var]


def link_subagents(session: AgentSession, subs: Sequence[AgentSession]) -> None:
    """Attach each sub-agent to the delegation call that started it.

    By the id the call's result names, then by the prompt the call gave, then by
    time (the sub-agent started while the call was open); the rest are orphans.
    """
    calls = [c for c in session.tool_calls if c.name.lower() in _DELEGATION_TOOLS]
    free = list(subs)

    def take(call: ToolCall, sub: AgentSession) -> None:
        call.child = sub
        free.remove(sub)

    for call in calls:
        if call.child_ref:
            match = next((s for s in free if s.agent_id == call.child_ref), None)
            if match is not None:
                take(call, match)
    for call in calls:
        if call.child is None and isinstance(call.input, dict):
            prompt = call.input.get("prompt")
            match = next(
                (s for s in free if isinstance(prompt, str) and s.task_prompt == prompt), None
            )
            if match is not None:
                take(call, match)
    for call in calls:
        if call.child is None and call.started_at is not None:
            for sub in list(free):
                start = _start(sub)
                end = call.ended_at
                if start is not None and start >= call.started_at and (end is None or start <= end):
                    take(call, sub)
                    break
    session.orphans.extend(free)


def _subagent_files(path: Path) -> list[Path]:
    folder = path.with_suffix("") / "subagents"
    if folder.is_dir():
        return sorted(folder.glob("agent-*.jsonl"))
    return []


def _agent_id_of(path: Path) -> str:
    return path.stem[len("agent-") :] if path.stem.startswith("agent-") else path.stem


def _read_lines(path: Path) -> list[bytes]:
    try:
        with path.open("rb") as handle:
            return handle.read().splitlines()
    except OSError as exc:
        raise OsopError(f"cannot read {path}: {exc}") from exc


def read_session(path: str | Path, *, extra_subagents: Sequence[Path] = ()) -> AgentSession:
    """A session file with its sub-agent files (``<id>/subagents/agent-*.jsonl``)."""
    file = Path(path)
    is_agent_file = file.stem.startswith("agent-")
    session = parse_lines(
        _read_lines(file),
        source=file.name,
        session_id=None if is_agent_file else file.stem,
        agent_id=_agent_id_of(file) if is_agent_file else None,
    )
    with contextlib.suppress(OSError):
        session.fallback_at = datetime.fromtimestamp(file.stat().st_mtime, UTC)
    subs = []
    for sub_path in [*_subagent_files(file), *extra_subagents]:
        sub = parse_lines(
            _read_lines(sub_path),
            source=f"{file.stem}/subagents/{sub_path.name}"
            if sub_path.parent.name == "subagents"
            else sub_path.name,
            session_id=session.session_id,
            agent_id=_agent_id_of(sub_path),
        )
        subs.append(sub)
    if subs:
        link_subagents(session, subs)
    return session


def find_sessions(path: str | Path) -> list[tuple[Path, list[Path]]]:
    """Session files under ``path`` (a file or a project folder), each with the
    old-layout ``agent-*.jsonl`` files that belong to it (by their ``sessionId``)."""
    root = Path(path)
    if root.is_file():
        return [(root, [])]
    if not root.is_dir():
        raise OsopError(f"no such file or folder: {root}")
    sessions = sorted(p for p in root.glob("*.jsonl") if not p.name.startswith("agent-"))
    by_id: dict[str, tuple[Path, list[Path]]] = {p.stem: (p, []) for p in sessions}
    loose: list[tuple[Path, list[Path]]] = []
    for agent_file in sorted(root.glob("agent-*.jsonl")):
        owner = _owner_session(agent_file)
        if owner is not None and owner in by_id:
            by_id[owner][1].append(agent_file)
        else:
            loose.append((agent_file, []))
    return [*by_id.values(), *loose]


def _owner_session(path: Path) -> str | None:
    try:
        with path.open("rb") as handle:
            for raw in handle:
                try:
                    data = json.loads(raw)
                except ValueError:
                    continue
                if isinstance(data, dict) and isinstance(data.get("sessionId"), str):
                    return str(data["sessionId"])
    except OSError:
        return None
    return None


class ClaudeCodeImporter:
    """``osop import claude-code``: a session file, or a project folder of them."""

    name = AGENT
    description = "Claude Code sessions (~/.claude/projects/<project>/<session-id>.jsonl)"

    def sessions(self, path: Path) -> Iterator[AgentSession]:
        for session_file, agent_files in find_sessions(path):
            yield read_session(session_file, extra_subagents=agent_files)
