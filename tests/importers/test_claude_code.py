"""Claude Code sessions → .osoplog: every fixture checked against an independent count."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from corpus_dir import AGENT_SESSIONS
from oracle import expected

from osop.format.validate import validate_text
from osop.importers import ImportedSession, import_sessions
from osop.importers.build import BuildOptions, build_records
from osop.importers.claude_code import parse_lines, read_session
from osop.importers.session import Prompt
from osop.record.model import RunRecord
from osop.record.writer import record_to_text

FIXTURES = Path(__file__).parent / "fixtures" / "claude-code"
SHARED = AGENT_SESSIONS / "claude-code"
SUBAGENTS = FIXTURES / "3c1b9f2e-7d4a-4e8b-a1c6-9e0f5d2b8a44.jsonl"

OURS = sorted(FIXTURES.glob("*.jsonl"))
THEIRS = sorted(SHARED.glob("*.jsonl")) if SHARED.is_dir() else []
TOKEN_KEYS = (
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
)


def _import(path: Path, **kwargs: Any) -> ImportedSession:
    (imported,) = list(import_sessions("claude-code", [path], **kwargs))
    return imported


def _node_tokens(record: RunRecord) -> dict[str, int]:
    totals = dict.fromkeys(TOKEN_KEYS, 0)
    for node in record.node_records:
        for key in TOKEN_KEYS:
            totals[key] += int((node.ai_metadata or {}).get(key, 0))
    return totals


def _calls(record: RunRecord) -> list[dict[str, Any]]:
    return [c for n in record.node_records for c in n.extra.get("x-tool-calls", [])]


@pytest.mark.parametrize("path", OURS + THEIRS, ids=lambda p: p.name)
def test_fixture_validates_and_counts_match_the_transcript(path: Path) -> None:
    imported = _import(path)
    for record in imported.records:
        report = validate_text(record_to_text(record, "json"), "r.osoplog.json", kind="log")
        assert report.valid, [i.message for i in report.issues]
        assert not report.issues, [i.message for i in report.issues]
    record = imported.record
    want = expected(path)
    session = record.extra["x-session"]
    # every tool_use block is one tool-call entry, no more, no less
    assert len(_calls(record)) == want["tool_calls"] == session["tool_calls"]
    assert sum(t["calls"] for n in record.node_records for t in n.tools_used) == want["tool_calls"]
    # tokens: per session and summed over nodes, equal to the unique messages' final usage
    for key in TOKEN_KEYS:
        assert session["tokens"][key] == want[key], key
        assert _node_tokens(record)[key] == want[key], key
    assert session["messages"] == want["messages"]
    # cost: the nodes' costs add up to the run's total
    total = sum(n.cost_usd for n in record.node_records)
    assert record.cost is not None
    assert record.cost["total_usd"] == pytest.approx(total, abs=1e-6)


def test_streamed_message_counted_once_with_its_final_usage() -> None:
    record = _import(FIXTURES / "streamed-retry.jsonl").record
    first = next(n for n in record.node_records if n.node_id == "turn_1_1_explore")
    assert first.ai_metadata is not None
    # msg_01 streamed as three lines (96 output tokens on the last) + msg_02 (71)
    assert first.ai_metadata["output_tokens"] == 96 + 71
    assert first.ai_metadata["messages"] == 2
    assert first.outputs == {"text_chars": len("Let me look at the parser."), "thinking_chars": 42}


def test_failed_call_rerun_is_the_next_attempt() -> None:
    record = _import(FIXTURES / "streamed-retry.jsonl").record
    runs = record.records_for("turn_1_3_run")
    assert [(r.attempt, r.status) for r in runs] == [(1, "FAILED"), (2, "COMPLETED")]
    assert runs[0].error is not None and runs[0].error.code == "TOOL_ERROR"
    retry = runs[1].extra["x-tool-calls"][0]
    assert retry["retry"] is True and retry["activity"] == "verify"
    assert runs[0].extra["x-tool-calls"][0]["duration_ms"] == 7500.0
    assert record.extra["x-session"]["failed_tool_calls"] == 1
    assert record.extra["x-session"]["retries"] == 1


def test_human_wait_is_left_out_of_durations() -> None:
    record = _import(FIXTURES / "streamed-retry.jsonl").record
    session = record.extra["x-session"]
    assert session["human_wait_ms"] >= 600_000
    assert record.duration_ms == pytest.approx(session["wall_ms"] - session["human_wait_ms"])
    prompt = next(n for n in record.node_records if n.node_id == "turn_2_prompt")
    assert prompt.human_metadata is not None
    assert prompt.human_metadata["response_time_ms"] == session["human_wait_ms"]
    assert session["first_edit_ms"] is not None and session["first_edit_ms"] < 60_000


def test_secrets_and_contents_stay_out() -> None:
    record = _import(FIXTURES / "streamed-retry.jsonl").record
    text = record_to_text(record, "json")
    assert "ghp_AbCd" not in text and "sk-ant-api03" not in text
    assert "export API_TOKEN=*** && git push origin main" in text
    # no file contents, no prompt text, no tool output by default
    assert "strips spaces" not in text and "def parse" not in text.replace('def parse"', "")
    assert "2 passed" not in text and "Fix the failing test" not in text


def test_include_content_keeps_texts_with_secrets_masked() -> None:
    record = _import(FIXTURES / "streamed-retry.jsonl", include_content=True).record
    text = record_to_text(record, "json")
    assert "Fix the failing test in parser.py" in text
    assert "2 passed" in text
    assert "sk-ant-api03" not in text and "ghp_AbCd" not in text


def test_unknown_and_torn_lines_are_counted_and_skipped() -> None:
    imported = _import(FIXTURES / "streamed-retry.jsonl")
    session = imported.record.extra["x-session"]
    assert session["unknown_lines"] == {"progress-stream": 1, "agent-telemetry": 1}
    assert session["bad_lines"] == 1
    assert len(imported.warnings) == 2  # one for the unknown types, one for the torn line
    assert session["title"] == "Fix parser test failure"


def test_interruptions_compaction_and_meta_lines() -> None:
    record = _import(FIXTURES / "compaction-interrupt.jsonl").record
    by_id = {n.node_id: n for n in record.node_records}
    assert by_id["turn_1_1_run"].status == "CANCELLED"
    assert by_id["turn_1_1_run"].extra["x-tool-calls"][0]["interrupted"] is True
    assert by_id["turn_1_1_run"].extra["x-tool-calls"][0]["error"] is False
    assert by_id["turn_2_1_reason"].status == "CANCELLED"
    assert by_id["compaction_1"].extra["x-marker"] == "compaction"
    assert by_id["compaction_1"].outputs == {"trigger": "manual", "pre_tokens": 48211}
    session = record.extra["x-session"]
    # /init, the question, "go on": meta lines, local output and the summary are no prompts
    assert session["prompts"] == 3
    assert session["interruptions"] == 2 and session["compactions"] == 1
    assert record.runtime is not None and record.runtime["agent_version"] == "2.0.28"
    models = {n.ai_metadata["model"] for n in record.node_records if n.ai_metadata}
    assert "claude-haiku-4-5-20251001" in models


def test_subagent_files_become_linked_child_runs() -> None:
    imported = _import(SUBAGENTS)
    parent, *children = imported.records
    assert len(children) == 2
    delegate = next(n for n in parent.node_records if n.extra.get("x-phase") == "delegate")
    links = parent.extra["x-child-runs"][delegate.node_id]
    assert sorted(links) == sorted(c.run_id for c in children)
    calls = delegate.extra["x-tool-calls"]
    assert {c["child_run_id"] for c in calls} == set(links)
    sub_dir = SUBAGENTS.with_suffix("") / "subagents"
    parent_tokens = parent.extra["x-session"]["tokens"]
    want = expected(SUBAGENTS)
    assert all(parent_tokens[k] == want[k] for k in TOKEN_KEYS)  # no sub-agent tokens inside
    child_sum = dict.fromkeys(TOKEN_KEYS, 0)
    for child in children:
        assert child.extra["x-parent-run"] == {"run_id": parent.run_id, "node_id": delegate.node_id}
        agent_id = child.extra["x-session"]["agent_id"]
        own = expected(sub_dir / f"agent-{agent_id}.jsonl", sidechain=True)
        for key in TOKEN_KEYS:
            assert child.extra["x-session"]["tokens"][key] == own[key]
            child_sum[key] += own[key]
        assert child.node_records[0].node_type == "event"  # its task, from the parent agent
        assert child.cost is not None and child.cost["total_usd"] > 0
    with_subs = parent.extra["x-session"]["tokens_with_subagents"]
    assert all(with_subs[k] == want[k] + child_sum[k] for k in TOKEN_KEYS)


def test_inline_sidechain_becomes_a_child_run_linked_by_its_prompt() -> None:
    path = FIXTURES / "sidechain-inline.jsonl"
    parent, child = _import(path).records
    assert parent.extra["x-child-runs"] == {"turn_1_1_delegate": child.run_id}
    side = expected(path, sidechain=True)
    assert child.extra["x-session"]["tokens"]["output_tokens"] == side["output_tokens"]
    assert len(_calls(child)) == side["tool_calls"] == 1
    assert parent.extra["x-session"]["tokens"]["output_tokens"] == expected(path)["output_tokens"]


def test_project_folder_imports_every_session(tmp_path: Path) -> None:
    sessions = list(import_sessions("claude-code", [FIXTURES]))
    assert len(sessions) == len(OURS)  # sub-agent files are not sessions of their own
    # old layout: agent-*.jsonl beside the session, found through its sessionId
    sub = SUBAGENTS.with_suffix("") / "subagents" / "agent-a1b2c3d4.jsonl"
    (tmp_path / SUBAGENTS.name).write_bytes(SUBAGENTS.read_bytes())
    (tmp_path / sub.name).write_bytes(sub.read_bytes())
    (found,) = list(import_sessions("claude-code", [tmp_path]))
    assert len(found.records) == 2


def test_same_session_same_run_id() -> None:
    a = _import(FIXTURES / "streamed-retry.jsonl").record
    b = _import(FIXTURES / "streamed-retry.jsonl").record
    assert a.run_id == b.run_id == "0d9e3c4a-58f1-4b8e-9d2c-6b1f7a2e4c11"


def test_an_empty_or_junk_file_still_gives_a_valid_record() -> None:
    session = parse_lines([b"", b"not json", b"[1,2]", b'{"type": "mystery"}'], source="junk")
    (record,) = build_records(session, BuildOptions())
    report = validate_text(record_to_text(record, "json"), "r.osoplog.json", kind="log")
    assert report.valid
    assert record.extra["x-session"]["bad_lines"] == 2


def test_tool_result_before_its_call_still_pairs() -> None:
    lines = (FIXTURES / "streamed-retry.jsonl").read_text().splitlines()
    reordered = [lines[i] for i in (0, 1, 2, 6, 3, 4, 5, *range(7, len(lines)))]
    session = parse_lines(reordered, source="x")
    read = next(c for c in session.tool_calls if c.call_id == "toolu_01")
    assert read.answered and read.ended_at is not None


def test_read_session_sees_subagents_folder() -> None:
    session = read_session(SUBAGENTS)
    assert {c.agent_id for c in session.children()} == {"a1b2c3d4", "e5f6a7b8"}
    assert not session.orphans


def test_records_round_trip_through_json(tmp_path: Path) -> None:
    from osop.importers import write_records

    imported = _import(SUBAGENTS)
    paths = write_records(imported, tmp_path)
    assert next(p.name for p in paths) == f"{SUBAGENTS.stem}.osoplog.json"
    data = json.loads(paths[0].read_text())
    assert data["runtime"]["agent"] == "claude-code"
    assert data["runtime"]["session_id"] == SUBAGENTS.stem
    assert data["runtime"]["model"].startswith("claude-sonnet-4-5")
    assert data["runtime"]["agent_version"] == "2.0.60"


def test_server_tool_result_in_the_same_message_answers_the_call() -> None:
    line = {
        "type": "assistant",
        "uuid": "u1",
        "timestamp": "2025-10-20T09:00:00Z",
        "message": {
            "id": "msg_ws",
            "model": "claude-sonnet-4-5",
            "content": [
                {
                    "type": "server_tool_use",
                    "id": "srvtoolu_1",
                    "name": "web_search",
                    "input": {"query": "osop"},
                },
                {
                    "type": "web_search_tool_result",
                    "tool_use_id": "srvtoolu_1",
                    "content": {"type": "web_search_tool_result_error", "error_code": "max_uses"},
                },
            ],
            "usage": {"input_tokens": 3, "output_tokens": 9},
        },
    }
    session = parse_lines([json.dumps(line)], source="ws")
    (call,) = session.tool_calls
    assert call.answered and call.is_error
    (record,) = build_records(session, BuildOptions())
    entry = record.node_records[0].extra["x-tool-calls"][0]
    assert entry["activity"] == "web" and record.node_records[0].node_type == "api"


def test_interrupted_while_thinking_is_a_cancelled_reasoning_phase() -> None:
    def line(kind: str, at: str, message: dict[str, Any], n: int) -> str:
        return json.dumps({"type": kind, "uuid": f"u{n}", "timestamp": at, "message": message})

    lines = [
        line("user", "2025-10-20T09:00:00Z", {"role": "user", "content": "go"}, 1),
        line(
            "assistant",
            "2025-10-20T09:00:05Z",
            {
                "id": "m1",
                "model": "claude-sonnet-4-5",
                "content": [
                    {"type": "tool_use", "id": "t1", "name": "Read", "input": {"file_path": "a.py"}}
                ],
                "usage": {"output_tokens": 5},
            },
            2,
        ),
        line(
            "user",
            "2025-10-20T09:00:06Z",
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "x"}],
            },
            3,
        ),
        line(
            "user",
            "2025-10-20T09:00:20Z",
            {
                "role": "user",
                "content": [{"type": "text", "text": "[Request interrupted by user]"}],
            },
            4,
        ),
    ]
    (record,) = build_records(parse_lines(lines, source="t"), BuildOptions())
    nodes = {n.node_id: n for n in record.node_records}
    assert nodes["turn_1_1_explore"].status == "COMPLETED"  # its work was done
    cut = nodes["turn_1_2_reason"]
    assert cut.status == "CANCELLED" and cut.duration_ms == 14_000
    assert record.status == "CANCELLED"


def test_system_reminders_are_not_part_of_the_prompt() -> None:
    content = [
        {"type": "text", "text": "Rename parse"},
        {"type": "text", "text": "<system-reminder>\nThe todo list is empty.\n</system-reminder>"},
    ]
    lines = [
        json.dumps(
            {
                "type": "user",
                "uuid": "1",
                "timestamp": "2025-10-20T09:00:00Z",
                "message": {"role": "user", "content": content},
            }
        ),
        json.dumps(
            {
                "type": "user",
                "uuid": "2",
                "timestamp": "2025-10-20T09:00:01Z",
                "message": {"role": "user", "content": "<system-reminder>x</system-reminder>"},
            }
        ),
    ]
    session = parse_lines(lines, source="r")
    prompts = [e for e in session.events if isinstance(e, Prompt)]
    assert [p.text.strip() for p in prompts] == ["Rename parse"]
