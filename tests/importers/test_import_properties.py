"""Properties of the importer: line order and repeats never change totals; junk never crashes."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from osop.format.validate import validate_text
from osop.importers.build import BuildOptions, build_records
from osop.importers.claude_code import parse_lines
from osop.record.writer import record_to_text

FIXTURES = Path(__file__).parent / "fixtures" / "claude-code"
LINES = [
    line
    for name in ("streamed-retry.jsonl", "compaction-interrupt.jsonl")
    for line in (FIXTURES / name).read_text().splitlines()
]
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _totals(lines: list[str]) -> tuple[dict[str, int], int, int]:
    session = parse_lines(lines, source="p")
    (record, *_children) = build_records(session, BuildOptions())
    info = record.extra["x-session"]
    calls = sum(len(n.extra.get("x-tool-calls", [])) for n in record.node_records)
    return info["tokens"], info["tool_calls"], calls


BASELINE = _totals(LINES)


@SETTINGS
@given(st.permutations(list(range(len(LINES)))), st.lists(st.integers(0, len(LINES) - 1)))
def test_reordered_and_repeated_lines_keep_the_totals(order: list[int], repeats: list[int]) -> None:
    lines = [LINES[i] for i in order] + [LINES[i] for i in repeats]
    assert _totals(lines) == BASELINE


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
_known_keys = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["user", "assistant", "system", "summary", "weird"]) | st.text(),
        "message": _json_values
        | st.fixed_dictionaries(
            {},
            optional={
                "id": _json_values,
                "content": _json_values,
                "usage": _json_values,
                "model": _json_values,
            },
        ),
        "timestamp": st.text(max_size=30) | st.just("2025-10-20T09:00:00Z") | _json_values,
        "uuid": _json_values,
        "isSidechain": _json_values,
        "agentId": _json_values,
        "subtype": st.just("compact_boundary") | _json_values,
        "compactMetadata": _json_values,
        "toolUseResult": _json_values,
    },
)
_junk_line = (
    st.binary(max_size=60).map(lambda b: b.decode("latin-1"))
    | _json_values.map(json.dumps)
    | _known_keys.map(json.dumps)
)


@SETTINGS
@given(st.lists(_junk_line, max_size=12), st.integers(0, len(LINES)))
def test_junk_lines_never_crash_and_the_record_validates(junk: list[str], at: int) -> None:
    lines = LINES[:at] + junk + LINES[at:]
    session = parse_lines(lines, source="junk")
    for record in build_records(session, BuildOptions()):
        report = validate_text(record_to_text(record, "json"), "r.osoplog.json", kind="log")
        assert report.valid, [i.message for i in report.errors]


CODEX_LINES = [
    line
    for path in sorted((Path(__file__).parent / "fixtures" / "codex").rglob("rollout-*.jsonl"))
    for line in path.read_text().splitlines()
]
_codex_junk = _junk_line | st.fixed_dictionaries(
    {
        "type": st.sampled_from(["response_item", "event_msg", "session_meta", "compacted"]),
        "payload": _json_values
        | st.fixed_dictionaries(
            {
                "type": st.sampled_from(
                    [
                        "function_call",
                        "function_call_output",
                        "token_count",
                        "message",
                        "user_message",
                        "turn_aborted",
                    ]
                )
                | st.text()
            },
            optional={
                "call_id": _json_values,
                "info": _json_values,
                "arguments": _json_values,
                "output": _json_values,
                "content": _json_values,
                "role": _json_values,
            },
        ),
        "timestamp": _json_values,
    }
).map(json.dumps)


@SETTINGS
@given(st.lists(_codex_junk, max_size=12), st.integers(0, len(CODEX_LINES)))
def test_codex_junk_never_crashes_and_the_record_validates(junk: list[str], at: int) -> None:
    from osop.importers.codex import parse_rollout

    session = parse_rollout(CODEX_LINES[:at] + junk + CODEX_LINES[at:], source="junk")
    for record in build_records(session, BuildOptions()):
        report = validate_text(record_to_text(record, "json"), "r.osoplog.json", kind="log")
        assert report.valid, [i.message for i in report.errors]
