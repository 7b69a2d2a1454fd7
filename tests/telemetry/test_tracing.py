"""Runs traced over OTLP/HTTP to a local receiver: spans, parents, GenAI attributes, times."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml

pytest.importorskip("opentelemetry.sdk")
pytest.importorskip("anthropic")

from executors.fake_llm import TOOL_TURN, fake_llm

from osop.engine import RunOptions, start_run
from osop.format.api import load_workflow
from osop.telemetry import setup_telemetry, tracing_observer

from .otlp_receiver import Receiver, otlp_receiver


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    with otlp_receiver() as rec:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", rec.endpoint)
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-team=platform")
        monkeypatch.setenv("OTEL_SERVICE_NAME", "osop-test")
        for var in (
            "OTEL_TRACES_EXPORTER",
            "OTEL_METRICS_EXPORTER",
            "OTEL_SDK_DISABLED",
            "OSOP_LLM_PROVIDER",
            "ANTHROPIC_API_KEY",
            "ANTHROPIC_BASE_URL",
        ):
            monkeypatch.delenv(var, raising=False)
        yield rec


class _Echo(BaseHTTPRequestHandler):
    seen: ClassVar[list[dict[str, str]]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        _Echo.seen.append(dict(self.headers))
        data = b'{"ok": true}'
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _ns(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1e6) * 1000


def test_a_run_is_one_trace_with_genai_spans(receiver: Receiver, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("The cache layer leaks on save.\n")
    api = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=api.serve_forever, args=(0.05,), daemon=True).start()
    _Echo.seen.clear()
    with fake_llm() as llm:
        workflow = {
            "osop_version": "1.1",
            "id": "traced-flow",
            "name": "Traced",
            "nodes": [
                {
                    "id": "flaky",
                    "type": "cli",
                    "name": "flaky",
                    "runtime": {"command": "test -f again || { touch again; exit 3; }"},
                    "retry_policy": {"max_retries": 1, "strategy": "fixed", "backoff_sec": 0},
                },
                {
                    "id": "ping",
                    "type": "api",
                    "name": "ping",
                    "runtime": {
                        "method": "GET",
                        "url": f"http://127.0.0.1:{api.server_address[1]}/x",
                    },
                },
                {
                    "id": "review",
                    "type": "agent",
                    "name": "review",
                    "purpose": "Review the PR",
                    "runtime": {"model": "claude-sonnet-4-20250514", "tools": ["read_file"]},
                    "outputs": [{"name": "summary"}, {"name": "risk", "schema": "low | high"}],
                },
            ],
            "edges": [{"from": "flaky", "to": "ping"}, {"from": "ping", "to": "review"}],
        }
        path = tmp_path / "wf.osop.yaml"
        path.write_text(yaml.safe_dump(workflow, sort_keys=False))
        telemetry = setup_telemetry()
        options = RunOptions(
            mode="live",
            workdir=tmp_path,
            env={"PATH": "/usr/bin:/bin", "ANTHROPIC_API_KEY": "k", "ANTHROPIC_BASE_URL": llm.base},
            observers=[tracing_observer(telemetry)],
        )
        result = asyncio.run(
            start_run(load_workflow(path), source=path.read_bytes(), options=options)
        )
        telemetry.shutdown()
    api.shutdown()
    assert result.status == "COMPLETED", result.record.to_dict()
    spans = receiver.spans
    (run,) = receiver.by_name("osop.run traced-flow")
    assert run.parent_id == "" and run.service == "osop-test"
    assert {s.trace_id for s in spans} == {run.trace_id}
    # The record carries the trace id.
    assert result.record.extra["x-trace"]["trace_id"] == run.trace_id
    flaky = sorted(receiver.by_name("cli flaky"), key=lambda s: s.attributes["osop.attempt"])
    assert [s.attributes["osop.attempt"] for s in flaky] == [1, 2]
    assert all(s.parent_id == run.span_id for s in flaky)
    assert flaky[0].status_code == 2 and flaky[0].attributes["error.type"] == "EXIT_3"
    assert flaky[1].status_code == 1
    assert ("retry", {"osop.attempt": 2, "osop.previous_error": "EXIT_3"}) in flaky[1].events
    # Span times are the record's times.
    records = {(r.node_id, r.attempt): r for r in result.record.node_records}
    assert flaky[0].start_ns == _ns(str(records[("flaky", 1)].started_at))
    assert flaky[0].end_ns == _ns(str(records[("flaky", 1)].ended_at))
    assert run.start_ns <= flaky[0].start_ns <= flaky[1].end_ns <= run.end_ns
    # W3C trace context went to the api call: the ping span is its parent.
    (ping,) = receiver.by_name("api ping")
    version, trace_id, parent_id, flags = _Echo.seen[0]["traceparent"].split("-")
    assert (version, trace_id, parent_id) == ("00", run.trace_id, ping.span_id)
    assert int(flags, 16) & 1  # sampled
    # The agent span and its GenAI children.
    (agent,) = receiver.by_name("invoke_agent review")
    assert agent.parent_id == run.span_id
    assert agent.attributes["gen_ai.operation.name"] == "invoke_agent"
    assert agent.attributes["gen_ai.provider.name"] == "anthropic"
    assert agent.attributes["gen_ai.system"] == "anthropic"
    assert agent.attributes["gen_ai.request.model"] == "claude-sonnet-4-20250514"
    ai = records[("review", 1)].ai_metadata
    assert ai is not None
    assert agent.attributes["gen_ai.usage.output_tokens"] == ai["completion_tokens"]
    assert (
        agent.attributes["gen_ai.usage.input_tokens"]
        == ai["prompt_tokens"] + ai["cache_read_tokens"]
    )
    assert agent.attributes["osop.cost_usd"] == pytest.approx(ai["cost_usd"])
    chats = receiver.by_name("chat claude-sonnet-4-20250514")
    assert len(chats) == 2 and all(c.parent_id == agent.span_id for c in chats)
    assert sorted(c.attributes["gen_ai.usage.output_tokens"] for c in chats) == sorted(
        [TOOL_TURN[1], 60]
    )
    (tool,) = receiver.by_name("execute_tool read_file")
    assert tool.parent_id == agent.span_id
    assert tool.attributes["gen_ai.operation.name"] == "execute_tool"
    assert tool.attributes["gen_ai.tool.name"] == "read_file"
    first, second = sorted(chats, key=lambda c: c.start_ns)
    assert (
        agent.start_ns
        <= first.end_ns
        <= tool.start_ns
        <= tool.end_ns
        <= second.start_ns
        <= agent.end_ns
    )
    # Headers from OTEL_EXPORTER_OTLP_HEADERS, metrics alongside.
    assert any(h.get("x-team") == "platform" for h in receiver.headers)
    assert {
        "osop.node.duration",
        "osop.node.attempts",
        "osop.cost",
        "gen_ai.client.token.usage",
    } <= receiver.metric_names
    assert json.dumps(result.record.to_dict())  # the record stays serialisable


def test_multi_agent_children_are_spans_under_the_node(receiver: Receiver, tmp_path: Path) -> None:
    from executors.test_multi_agent import AGENTS, by_role, run_team

    from osop.engine import RunOptions as Options

    provider = by_role({"researcher": "r", "analyst": "a"})
    telemetry = setup_telemetry(metrics=False)
    original = Options.__init__

    def traced(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.observers = [tracing_observer(telemetry)]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Options, "__init__", traced)
        result = run_team(tmp_path, provider, {"agents": AGENTS})
    telemetry.shutdown()
    assert result.status == "COMPLETED"
    (node,) = receiver.by_name("invoke_agent research")
    children = [s for s in receiver.spans if s.name.startswith("invoke_agent research/")]
    assert sorted(s.name for s in children) == [
        "invoke_agent research/analyst",
        "invoke_agent research/researcher",
    ]
    assert all(s.parent_id == node.span_id for s in children)
    assert all(s.attributes["gen_ai.provider.name"] == "scripted" for s in children)
    chats = [s for s in receiver.spans if s.name.startswith("chat ")]
    assert {c.parent_id for c in chats} == {s.span_id for s in children}


def test_a_child_run_hangs_under_the_node_that_started_it(
    receiver: Receiver, tmp_path: Path
) -> None:
    child = {
        "osop_version": "1.1",
        "id": "child-flow",
        "name": "Child",
        "nodes": [{"id": "inner", "type": "cli", "name": "inner", "runtime": {"command": "true"}}],
        "edges": [],
    }
    parent = {
        "osop_version": "1.1",
        "id": "parent-flow",
        "name": "Parent",
        "imports": ["./child.osop.yaml"],
        "nodes": [{"id": "sub", "type": "system", "name": "sub", "workflow_ref": "child-flow"}],
        "edges": [],
    }
    (tmp_path / "child.osop.yaml").write_text(yaml.safe_dump(child))
    path = tmp_path / "parent.osop.yaml"
    path.write_text(yaml.safe_dump(parent))
    telemetry = setup_telemetry(metrics=False)
    options = RunOptions(
        mode="simulated", workdir=tmp_path, observers=[tracing_observer(telemetry)]
    )
    result = asyncio.run(
        start_run(
            load_workflow(path), source=path.read_bytes(), workflow_path=path, options=options
        )
    )
    telemetry.shutdown()
    assert result.status == "COMPLETED", result.record.to_dict()
    (parent_run,) = receiver.by_name("osop.run parent-flow")
    (sub,) = receiver.by_name("system sub")
    (child_run,) = receiver.by_name("osop.run child-flow")
    (inner,) = receiver.by_name("cli inner")
    assert sub.parent_id == parent_run.span_id
    assert child_run.parent_id == sub.span_id
    assert inner.parent_id == child_run.span_id
    assert {parent_run.trace_id, child_run.trace_id, inner.trace_id} == {parent_run.trace_id}


def test_an_approval_pause_and_its_answer_are_events(receiver: Receiver, tmp_path: Path) -> None:
    from osop.engine import RunStore, resume_run

    (tmp_path / "build").mkdir()
    data = {
        "osop_version": "1.1",
        "id": "gated",
        "name": "Gated",
        "nodes": [
            {"id": "clean", "type": "cli", "name": "clean", "runtime": {"command": "rm -rf build"}}
        ],
        "edges": [],
    }
    path = tmp_path / "wf.osop.yaml"
    path.write_text(yaml.safe_dump(data))
    store = RunStore(tmp_path / ".osop")
    telemetry = setup_telemetry(metrics=False)
    options = RunOptions(mode="live", workdir=tmp_path, observers=[tracing_observer(telemetry)])
    first = asyncio.run(
        start_run(
            load_workflow(path),
            source=path.read_bytes(),
            workflow_path=path,
            store=store,
            options=options,
        )
    )
    assert first.paused
    store.get(first.run_id).post("answer", node="clean", answer={"decision": "approved"})
    second = asyncio.run(resume_run(first.run_id, store=store, options=options))
    telemetry.shutdown()
    assert second.status == "COMPLETED"
    (run,) = receiver.by_name("osop.run gated")
    (resumed,) = receiver.by_name("osop.run gated (resumed)")
    assert resumed.trace_id == run.trace_id and resumed.parent_id == run.span_id
    assert [e[0] for e in run.events] == ["paused"]
    assert ("approval", {"osop.node.id": "clean", "osop.decision": "approved"}) in resumed.events
    waiting, done = sorted(receiver.by_name("cli clean"), key=lambda s: s.start_ns)
    assert waiting.events[0][0] == "approval_requested"
    assert waiting.attributes["osop.status"] == "WAITING"
    assert done.attributes["osop.status"] == "COMPLETED" and done.parent_id == resumed.span_id
    assert second.record.extra["x-trace"]["trace_id"] == run.trace_id


def test_a_broken_tracer_never_breaks_the_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from osop.telemetry.tracer import RunTracer

    class Broken(RunTracer):
        def _on_start(self, entry: dict[str, Any]) -> None:
            raise RuntimeError("exporter exploded")

    telemetry = setup_telemetry(span_exporter=None, metrics=False)
    data = {
        "osop_version": "1.1",
        "id": "fragile",
        "name": "Fragile",
        "nodes": [{"id": "a", "type": "cli", "name": "a", "runtime": {"command": "true"}}],
        "edges": [],
    }
    path = tmp_path / "wf.osop.yaml"
    path.write_text(yaml.safe_dump(data))
    options = RunOptions(
        mode="simulated",
        workdir=tmp_path,
        observers=[lambda run_id, state: Broken(telemetry, run_id, state)],
    )
    result = asyncio.run(start_run(load_workflow(path), source=path.read_bytes(), options=options))
    assert result.status == "COMPLETED"
    assert "tracing of run" in caplog.text
