"""`osop run --otel` and `osop export --to otlp` against a local OTLP receiver."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

pytest.importorskip("opentelemetry.sdk")

from osop.cli.main import cli

from .otlp_receiver import Receiver, otlp_receiver


@pytest.fixture
def receiver(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OSOP_HOME", raising=False)
    for var in ("OTEL_TRACES_EXPORTER", "OTEL_SDK_DISABLED", "OTEL_SERVICE_NAME", "OSOP_OTEL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("OTEL_METRICS_EXPORTER", "none")
    with otlp_receiver() as rec:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", rec.endpoint)
        yield rec


def _ns(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1e6) * 1000


WORKFLOW = {
    "osop_version": "1.1",
    "id": "cli-traced",
    "name": "CLI traced",
    "nodes": [
        {"id": "build", "type": "cli", "name": "Build", "runtime": {"command": "true"}},
        {"id": "review", "type": "agent", "name": "Review", "runtime": {"model": "gpt-4o"}},
    ],
    "edges": [{"from": "build", "to": "review"}],
}


def test_run_with_otel_flag(receiver: Receiver, tmp_path: Path) -> None:
    (tmp_path / "wf.osop.yaml").write_text(yaml.safe_dump(WORKFLOW))
    result = CliRunner().invoke(
        cli, ["run", "wf.osop.yaml", "-q", "--mode", "simulated", "--otel", "--log", "out.json"]
    )
    assert result.exit_code == 0, result.output
    record = json.loads((tmp_path / "out.json").read_text())
    names = sorted(s.name for s in receiver.spans)
    assert names == ["cli build", "invoke_agent review", "osop.run cli-traced"]
    (run,) = receiver.by_name("osop.run cli-traced")
    assert record["x-trace"]["trace_id"] == run.trace_id
    assert run.service == "osop"
    (agent,) = receiver.by_name("invoke_agent review")
    # A rehearsal says who answered: the offline provider.
    assert agent.attributes["gen_ai.provider.name"] == "offline"


def test_workflow_observability_block_turns_tracing_on(receiver: Receiver, tmp_path: Path) -> None:
    data = {**WORKFLOW, "observability": {"tracing": {"enabled": True}}}
    (tmp_path / "wf.osop.yaml").write_text(yaml.safe_dump(data))
    result = CliRunner().invoke(cli, ["run", "wf.osop.yaml", "-q", "--mode", "simulated"])
    assert result.exit_code == 0, result.output
    assert len(receiver.by_name("osop.run cli-traced")) == 1


def test_no_tracing_unless_asked(receiver: Receiver, tmp_path: Path) -> None:
    (tmp_path / "wf.osop.yaml").write_text(yaml.safe_dump(WORKFLOW))
    result = CliRunner().invoke(cli, ["run", "wf.osop.yaml", "-q", "--mode", "simulated"])
    assert result.exit_code == 0, result.output
    assert receiver.spans == []


SESSION_RECORD = {
    "osoplog_version": "1.0",
    "run_id": "0b8f3c5e-7d1a-4c62-9a1e-3f5b2d4c6e7a",
    "workflow_id": "claude-code-session",
    "status": "COMPLETED",
    "mode": "live",
    "started_at": "2026-03-31T10:00:00Z",
    "ended_at": "2026-03-31T10:05:00Z",
    "runtime": {"agent": "claude-code"},
    "node_records": [
        {
            "node_id": "turn-1",
            "node_type": "agent",
            "attempt": 1,
            "status": "COMPLETED",
            "started_at": "2026-03-31T10:00:01Z",
            "ended_at": "2026-03-31T10:00:04Z",
            "ai_metadata": {
                "model": "claude-sonnet-4-20250514",
                "provider": "anthropic",
                "prompt_tokens": 4500,
                "completion_tokens": 800,
                "cost_usd": 0.0255,
            },
        },
        {
            "node_id": "tests",
            "node_type": "cli",
            "attempt": 1,
            "status": "FAILED",
            "started_at": "2026-03-31T10:01:00Z",
            "duration_ms": 1500,
            "error": "3 tests failed",
        },
    ],
}


def test_export_records_as_traces_with_their_own_times(receiver: Receiver, tmp_path: Path) -> None:
    (tmp_path / "session.osoplog.json").write_text(json.dumps(SESSION_RECORD))
    result = CliRunner().invoke(cli, ["export", "--to", "otlp", "session.osoplog.json"])
    assert result.exit_code == 0, result.output
    assert "sent 1 trace(s)" in result.output
    (run,) = receiver.by_name("osop.run claude-code-session")
    assert (run.start_ns, run.end_ns) == (_ns("2026-03-31T10:00:00Z"), _ns("2026-03-31T10:05:00Z"))
    assert run.attributes["osop.agent"] == "claude-code"
    (turn,) = receiver.by_name("invoke_agent turn-1")
    assert turn.parent_id == run.span_id
    assert turn.start_ns == _ns("2026-03-31T10:00:01Z")
    assert turn.attributes["gen_ai.usage.input_tokens"] == 4500
    assert turn.attributes["gen_ai.usage.output_tokens"] == 800
    assert turn.attributes["gen_ai.request.model"] == "claude-sonnet-4-20250514"
    (tests,) = receiver.by_name("cli tests")
    assert tests.end_ns - tests.start_ns == 1_500_000_000
    assert tests.status_code == 2


def test_export_to_an_unreachable_endpoint_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "1")
    (tmp_path / "session.osoplog.json").write_text(json.dumps(SESSION_RECORD))
    result = CliRunner().invoke(cli, ["export", "--to", "otlp", "session.osoplog.json"])
    assert result.exit_code == 1
    assert "could not be exported" in result.output


def test_export_to_a_file_format_needs_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "session.osoplog.json").write_text(json.dumps(SESSION_RECORD))
    result = CliRunner().invoke(cli, ["export", "--to", "xes", "session.osoplog.json"])
    assert result.exit_code == 2
    assert "--output" in result.output


def test_an_imported_claude_code_session_exports_as_a_trace(
    receiver: Receiver, tmp_path: Path
) -> None:
    from osop.format.api import load_record as read_record
    from osop.importers import import_sessions, write_records

    session = Path(__file__).parents[1] / "importers" / "fixtures" / "claude-code"
    (imported,) = list(
        import_sessions("claude-code", [session / "3c1b9f2e-7d4a-4e8b-a1c6-9e0f5d2b8a44.jsonl"])
    )
    files = write_records(imported, tmp_path / "sessions")
    result = CliRunner().invoke(cli, ["export", "--to", "otlp", str(tmp_path / "sessions")])
    assert result.exit_code == 0, result.output
    assert f"sent {len(files)} trace(s)" in result.output
    record = read_record(files[0])
    (run,) = [s for s in receiver.spans if s.attributes.get("osop.run_id") == record.run_id]
    assert run.attributes["osop.agent"] == "claude-code"
    assert run.start_ns == _ns(str(record.started_at))
    children = [s for s in receiver.spans if s.parent_id == run.span_id]
    assert len(children) == len([r for r in record.node_records if r.node_id])
    for node in record.node_records:
        if node.node_type != "agent" or not node.ai_metadata:
            continue
        (span,) = [s for s in children if s.name == f"invoke_agent {node.node_id}"]
        assert span.start_ns == _ns(str(node.started_at))
        ai = node.ai_metadata
        assert span.attributes["gen_ai.request.model"] == ai["model"]
        assert span.attributes["gen_ai.usage.output_tokens"] == ai["completion_tokens"]
        assert span.attributes["osop.cost_usd"] == pytest.approx(ai["cost_usd"])
