"""Codex CLI rollouts → .osoplog, and the importer plug-in point."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from osop.errors import OsopError
from osop.format.validate import validate_text
from osop.importers import _registered as registered
from osop.importers import (
    available_importers,
    get_importer,
    import_sessions,
    register_importer,
)
from osop.importers.session import AgentMessage, AgentSession, Prompt, ToolCall, Usage
from osop.record.writer import record_to_text

FIXTURES = Path(__file__).parent / "fixtures" / "codex"
ROLLOUTS = sorted(FIXTURES.rglob("rollout-*.jsonl"))
CALL_ITEMS = {"function_call", "custom_tool_call", "local_shell_call", "web_search_call"}


def _expected(path: Path) -> dict[str, int]:
    """Independent count: unique call ids; tokens from the last running totals."""
    calls: set[str] = set()
    totals: dict[str, int] = {}
    for raw in path.read_bytes().splitlines():
        try:
            line = json.loads(raw)
        except ValueError:
            continue
        item = line.get("payload") if "payload" in line else line
        if not isinstance(item, dict):
            continue
        if item.get("type") in CALL_ITEMS:
            calls.add(item["call_id"])
        info = item.get("info") if item.get("type") == "token_count" else None
        if isinstance(info, dict):
            totals = info["total_token_usage"]
    cached = totals.get("cached_input_tokens", 0)
    return {
        "tool_calls": len(calls),
        "input_tokens": totals.get("input_tokens", 0) - cached,
        "cache_read_input_tokens": cached,
        "output_tokens": totals.get("output_tokens", 0),
    }


@pytest.mark.parametrize("path", ROLLOUTS, ids=lambda p: p.name[:40])
def test_rollout_validates_and_counts_match(path: Path) -> None:
    (imported,) = list(import_sessions("codex", [path]))
    record = imported.record
    report = validate_text(record_to_text(record, "json"), "r.osoplog.json", kind="log")
    assert report.valid and not report.issues, [i.message for i in report.issues]
    want = _expected(path)
    session = record.extra["x-session"]
    calls = [c for n in record.node_records for c in n.extra.get("x-tool-calls", [])]
    assert len(calls) == want["tool_calls"] == session["tool_calls"]
    for key in ("input_tokens", "cache_read_input_tokens", "output_tokens"):
        assert session["tokens"][key] == want[key]
        assert sum((n.ai_metadata or {}).get(key, 0) for n in record.node_records) == want[key]
    assert record.runtime is not None and record.runtime["agent"] == "codex"


def test_current_rollout_shape() -> None:
    path = next(p for p in ROLLOUTS if "0199f2a4" in p.name)
    (imported,) = list(import_sessions("codex", [path]))
    record = imported.record
    assert record.runtime == {
        "agent": "codex",
        "agent_version": "0.46.0",
        "model": "gpt-5-codex",
        "session_id": "0199f2a4-7c1e-7d30-b5a2-3e4f5a6b7c8d",
    }
    by_id = {(n.node_id, n.attempt): n for n in record.node_records}
    # the injected environment context is not a prompt; the typed prompt is counted once
    assert record.extra["x-session"]["prompts"] == 2
    edit = by_id[("turn_1_2_edit", 1)]
    assert edit.extra["x-tool-calls"][0]["target"] == "src/parser.py"
    assert by_id[("turn_1_3_run", 1)].status == "FAILED"
    assert by_id[("turn_1_3_run", 2)].extra["x-tool-calls"][0]["retry"] is True
    assert by_id[("turn_2_1_run", 1)].status == "CANCELLED"
    assert by_id[("compaction_1", 1)].extra["x-marker"] == "compaction"
    assert record.extra["x-session"]["human_wait_ms"] >= 300_000
    text = record_to_text(record, "json")
    assert "ghp_ZyXw" not in text and "Fix the failing" not in text
    assert len(imported.warnings) == 2  # unknown event type, torn last line


def test_folder_is_searched_for_rollouts() -> None:
    assert len(list(import_sessions("codex", [FIXTURES]))) == len(ROLLOUTS) == 2


class _Toy:
    """A plug-in importer: one line per prompt, 'tool:' lines are calls."""

    name = "toy-agent"
    description = "test importer"

    def sessions(self, path: Path) -> Iterator[AgentSession]:
        session = AgentSession("toy-agent", "toy-1", source=path.name)
        message = AgentMessage("m1", None, "claude-haiku-4-5", Usage(10, 5))
        message.tool_calls.append(
            ToolCall("c1", "Read", {"file_path": "a.py"}, None, answered=True)
        )
        session.events = [Prompt(None, "hi"), message]
        yield session


def test_registered_importer_is_used(tmp_path: Path) -> None:
    register_importer(_Toy())
    try:
        assert "toy-agent" in available_importers()
        (imported,) = list(import_sessions("toy-agent", [tmp_path]))
        assert imported.record.runtime is not None
        assert imported.record.runtime["agent"] == "toy-agent"
        assert imported.record.extra["x-session"]["tool_calls"] == 1
    finally:
        registered.pop("toy-agent", None)


class _EntryPoint:
    def __init__(self, name: str, value: str, obj: Any) -> None:
        self.name, self.value, self._obj = name, value, obj

    def load(self) -> Any:
        if isinstance(self._obj, Exception):
            raise self._obj
        return self._obj


def test_entry_point_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    import osop.importers as importers

    points = {
        "toy-agent": _EntryPoint("toy-agent", "toy:Toy", _Toy),
        "broken": _EntryPoint("broken", "broken:Nope", ImportError("no module named broken")),
    }
    monkeypatch.setattr(importers, "_plugins", lambda: points)
    assert isinstance(get_importer("toy-agent"), _Toy)
    assert available_importers()["toy-agent"] == "plug-in toy:Toy"
    with pytest.raises(OsopError, match="'broken:Nope' failed to load"):
        get_importer("broken")
    assert get_importer("claude-code").name == "claude-code"
