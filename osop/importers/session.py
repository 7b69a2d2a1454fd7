"""What every importer produces: an agent's session as ordered, typed events.

An importer reads one agent's transcript format and fills an :class:`AgentSession`;
:mod:`osop.importers.build` turns any session into ``.osoplog`` records.  So a new
agent needs only a parser, and every agent's records have the same shape.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "AgentMessage",
    "AgentSession",
    "Compaction",
    "Event",
    "Interruption",
    "Prompt",
    "ToolCall",
    "Usage",
    "json_objects",
    "note_skipped",
]


@dataclass(slots=True)
class Usage:
    """Tokens of one model request (or a sum of them).

    ``input`` counts uncached prompt tokens only; prompt tokens written to or read
    from the provider's cache are counted apart, as providers price them apart.
    """

    input: int = 0
    output: int = 0
    cache_creation: int = 0
    cache_read: int = 0

    def add(self, other: Usage) -> None:
        self.input += other.input
        self.output += other.output
        self.cache_creation += other.cache_creation
        self.cache_read += other.cache_read

    def merge_max(self, other: Usage) -> None:
        """Keep the larger of each count (streamed lines of one message: the final usage)."""
        self.input = max(self.input, other.input)
        self.output = max(self.output, other.output)
        self.cache_creation = max(self.cache_creation, other.cache_creation)
        self.cache_read = max(self.cache_read, other.cache_read)

    @property
    def prompt(self) -> int:
        return self.input + self.cache_creation + self.cache_read

    @property
    def total(self) -> int:
        return self.prompt + self.output

    def to_dict(self) -> dict[str, int]:
        return {
            "input_tokens": self.input,
            "output_tokens": self.output,
            "cache_creation_input_tokens": self.cache_creation,
            "cache_read_input_tokens": self.cache_read,
        }


@dataclass(slots=True)
class ToolCall:
    """One tool call: asked for in a model message, answered by a tool result."""

    call_id: str
    name: str
    input: Any
    started_at: datetime | None
    ended_at: datetime | None = None
    answered: bool = False
    is_error: bool = False
    interrupted: bool = False
    output: str | None = None
    #: The sub-agent this call started (Task / Agent tools, Codex sub-agents).
    child: AgentSession | None = None
    #: Id the transcript gives the sub-agent run by this call, when it says.
    child_ref: str | None = None


@dataclass(slots=True)
class AgentMessage:
    """One model response, counted once however many lines streamed it."""

    message_id: str
    at: datetime | None
    model: str | None
    usage: Usage = field(default_factory=Usage)
    text: list[str] = field(default_factory=list)
    thinking_chars: int = 0
    tool_calls: list[ToolCall] = field(default_factory=list)


@dataclass(slots=True)
class Prompt:
    """What the person typed (or a slash command they ran)."""

    at: datetime | None
    text: str


@dataclass(slots=True)
class Interruption:
    """The person stopped the agent mid-turn."""

    at: datetime | None


@dataclass(slots=True)
class Compaction:
    """The agent's context was compacted here (a marker, not work)."""

    at: datetime | None
    trigger: str | None = None
    pre_tokens: int | None = None


Event = Prompt | AgentMessage | Interruption | Compaction


@dataclass
class AgentSession:
    """One session of one agent, in the order things happened."""

    agent: str
    session_id: str
    events: list[Event] = field(default_factory=list)
    agent_version: str | None = None
    cwd: str | None = None
    git_branch: str | None = None
    title: str | None = None
    source: str | None = None
    #: For a sub-agent: its id in the transcript and the prompt it was given.
    agent_id: str | None = None
    task_prompt: str | None = None
    #: Sub-agents no tool call could be linked to (still imported, linked to the run).
    orphans: list[AgentSession] = field(default_factory=list)
    unknown_types: dict[str, int] = field(default_factory=dict)
    bad_lines: int = 0
    lines: int = 0
    #: When the transcript has no timestamp at all (the file's modification time).
    fallback_at: datetime | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def messages(self) -> list[AgentMessage]:
        return [e for e in self.events if isinstance(e, AgentMessage)]

    @property
    def tool_calls(self) -> list[ToolCall]:
        return [c for m in self.messages for c in m.tool_calls]

    def usage(self) -> Usage:
        total = Usage()
        for message in self.messages:
            total.add(message.usage)
        return total

    def children(self) -> list[AgentSession]:
        linked = [c.child for c in self.tool_calls if c.child is not None]
        return [*linked, *self.orphans]


def json_objects(lines: Iterable[str | bytes], session: AgentSession) -> Iterator[dict[str, Any]]:
    """The JSON objects among ``lines``; blank lines skipped, others counted as bad."""
    for raw in lines:
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        if not text.strip():
            continue
        session.lines += 1
        try:
            data = json.loads(text)
        except ValueError:
            session.bad_lines += 1
            continue
        if not isinstance(data, dict):
            session.bad_lines += 1
            continue
        yield data


def note_skipped(session: AgentSession) -> None:
    """One note for the unknown line types, one for the lines that were not objects."""
    if session.unknown_types:
        kinds = ", ".join(f"{k} ({n})" for k, n in sorted(session.unknown_types.items()))
        session.notes.append(f"skipped lines of unknown types: {kinds}")
    if session.bad_lines:
        session.notes.append(f"skipped {session.bad_lines} line(s) that are not JSON objects")
