"""The agent loop's tools, gates, budgets, handoff and criteria (a scripted model)."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from osop.engine import RunOptions, RunStore, resume_run, start_run
from osop.executors.agent import AgentExecutor, agent_prompt
from osop.executors.base import NodeFailure, NodeResult
from osop.format.api import load_workflow
from osop.llm import ChatRequest, ChatResponse, ToolCall, Usage

from .helpers import make_ctx, run
from .test_mcp import SERVER

Script = Callable[[ChatRequest, int], ChatResponse]


class Scripted:
    """A model whose every turn is decided by ``script(request, turn)``."""

    name = "scripted"

    def __init__(self, script: Script) -> None:
        self.script = script
        self.requests: list[ChatRequest] = []

    async def chat(self, request: ChatRequest) -> ChatResponse:
        self.requests.append(request)
        return self.script(request, len(self.requests))


def call_then_answer(name: str, args: dict[str, Any], answer: str = "done") -> Script:
    def script(request: ChatRequest, turn: int) -> ChatResponse:
        if request.messages[-1].role == "user" and turn == 1:
            return ChatResponse(
                "", (ToolCall(f"c{turn}", name, args),), Usage(100, 10), "claude-sonnet-4"
            )
        return ChatResponse(answer, usage=Usage(100, 10), model="claude-sonnet-4")

    return script


def agent(node: dict[str, Any], tmp_path: Path, provider: Scripted, **kw: Any) -> NodeResult:
    node = {"id": "a", "type": "agent", **node}
    node["runtime"] = {
        "provider": "scripted",
        "model": "claude-sonnet-4",
        **node.get("runtime", {}),
    }
    services = {"llm_providers": {"scripted": provider}, **kw.pop("services", {})}
    return run(AgentExecutor().execute(make_ctx(node, tmp_path, services=services, **kw)))


@pytest.fixture(autouse=True)
def no_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OSOP_LLM_PROVIDER", raising=False)


def tool_results(provider: Scripted) -> list[str]:
    return [m.text for r in provider.requests for m in r.messages if m.role == "tool"]


def test_mcp_tools_from_a_configured_server(tmp_path: Path) -> None:
    script = tmp_path / "fake_mcp.py"
    # The fake answers tools/call; tools/list is added for the agent.
    script.write_text(
        SERVER.replace(
            '    elif method == "tools/call":',
            '    elif method == "tools/list":\n'
            '        send({"jsonrpc": "2.0", "id": msg["id"], "result": {"tools": [\n'
            '            {"name": "add", "description": "Add", "inputSchema": {"type": "object"}}]}})\n'
            '    elif method == "tools/call":',
        )
    )
    provider = Scripted(call_then_answer("add", {"a": 2, "b": 3}))
    result = agent(
        {"runtime": {"tools": [{"mcp": "calc"}]}},
        tmp_path,
        provider,
        services={"mcp_servers": {"calc": [sys.executable, str(script)]}},
    )
    assert tool_results(provider) == ["5"]
    assert provider.requests[0].tools[0].name == "add"
    assert result.tools_used == [{"tool": "add", "kind": "mcp:calc", "calls": 1}]


def test_another_node_as_a_tool(tmp_path: Path) -> None:
    provider = Scripted(call_then_answer("lookup", {"ticket": "T-1"}))
    node = {
        "id": "a",
        "type": "agent",
        "runtime": {
            "provider": "scripted",
            "model": "claude-sonnet-4",
            "tools": [{"node": "lookup"}],
        },
    }
    lookup = {
        "id": "lookup",
        "type": "cli",
        "purpose": "Look a ticket up",
        "runtime": {"command": 'echo \'{"owner": "ana"}\''},
    }
    workflow = {"osop_version": "1.1", "id": "t", "name": "T", "nodes": [node, lookup]}
    from osop.format.workflow import workflow_from_dict

    wf = workflow_from_dict(workflow)
    ctx = make_ctx(node, tmp_path, services={"llm_providers": {"scripted": provider}})
    ctx.workflow = wf
    ctx.node = wf.node("a")
    result = run(AgentExecutor().execute(ctx))
    assert json.loads(tool_results(provider)[0])["owner"] == "ana"
    assert result.tools_used == [{"tool": "lookup", "kind": "node:lookup", "calls": 1}]


def test_unknown_tool_fails_before_asking(tmp_path: Path) -> None:
    provider = Scripted(call_then_answer("x", {}))
    with pytest.raises(NodeFailure) as info:
        agent({"runtime": {"tools": ["search_code"]}}, tmp_path, provider)
    assert info.value.code == "UNKNOWN_TOOL" and not provider.requests


def test_a_model_calling_a_tool_it_was_not_given_is_told(tmp_path: Path) -> None:
    provider = Scripted(call_then_answer("delete_everything", {}))
    result = agent({"runtime": {"tools": ["read_file"]}}, tmp_path, provider)
    assert "no tool called 'delete_everything'" in tool_results(provider)[0]
    assert result.ai_metadata is not None
    assert result.ai_metadata["tool_calls"][0]["status"] == "unknown"


def test_max_turns(tmp_path: Path) -> None:
    def forever(request: ChatRequest, turn: int) -> ChatResponse:
        return ChatResponse("", (ToolCall(f"c{turn}", "list_files", {}),), Usage(10, 1), "m")

    with pytest.raises(NodeFailure) as info:
        agent({"runtime": {"tools": ["list_files"], "max_turns": 3}}, tmp_path, Scripted(forever))
    assert info.value.code == "MAX_TURNS" and info.value.retryable is False
    assert len(info.value.details["ai_metadata"]["turns"]) == 3


def test_cost_budget(tmp_path: Path) -> None:
    def costly(request: ChatRequest, turn: int) -> ChatResponse:
        return ChatResponse(
            "", (ToolCall(f"c{turn}", "list_files", {}),), Usage(100_000, 0), "claude-sonnet-4"
        )

    with pytest.raises(NodeFailure) as info:
        agent(
            {"runtime": {"tools": ["list_files"], "max_cost_usd": 0.5}}, tmp_path, Scripted(costly)
        )
    assert info.value.code == "BUDGET_EXCEEDED"
    # 100k input tokens at $3/M is $0.30 a turn: the second turn goes over.
    assert info.value.details["ai_metadata"]["cost_usd"] == pytest.approx(0.6)


def test_dangerous_command_needs_approval_then_runs(tmp_path: Path) -> None:
    target = tmp_path / "build"
    target.mkdir()
    provider = Scripted(call_then_answer("run_command", {"command": "rm -rf build"}))
    with pytest.raises(NodeFailure) as info:
        agent({"runtime": {"tools": ["run_command"]}}, tmp_path, provider)
    assert info.value.code == "NEEDS_APPROVAL"
    assert target.exists()
    approved = Scripted(call_then_answer("run_command", {"command": "rm -rf build"}))
    agent(
        {"runtime": {"tools": ["run_command"]}}, tmp_path, approved, answer={"decision": "approved"}
    )
    assert not target.exists()
    rejected = Scripted(call_then_answer("run_command", {"command": "rm -rf build"}))
    with pytest.raises(NodeFailure) as info:
        agent(
            {"runtime": {"tools": ["run_command"]}}, tmp_path, rejected, answer={"decision": "no"}
        )
    assert info.value.code == "REJECTED"


def test_a_dangerous_tool_call_pauses_the_run_like_a_cli_node(tmp_path: Path) -> None:
    (tmp_path / "build").mkdir()
    provider = Scripted(call_then_answer("run_command", {"command": "rm -rf build"}))
    data = {
        "osop_version": "1.1",
        "id": "gated",
        "name": "Gated",
        "nodes": [
            {
                "id": "clean",
                "type": "agent",
                "name": "Clean",
                "runtime": {
                    "provider": "scripted",
                    "model": "claude-sonnet-4",
                    "tools": ["run_command"],
                },
            }
        ],
        "edges": [],
    }
    path = tmp_path / "wf.osop.yaml"
    path.write_text(yaml.safe_dump(data))
    store = RunStore(tmp_path / ".osop")
    options = RunOptions(
        mode="live", workdir=tmp_path, services={"llm_providers": {"scripted": provider}}
    )
    first = asyncio.run(
        start_run(
            load_workflow(path),
            source=path.read_bytes(),
            workflow_path=path,
            store=store,
            options=options,
        )
    )
    assert first.paused and first.waiting[0]["kind"] == "approval"
    assert (tmp_path / "build").exists()
    handle = store.get(first.run_id)
    handle.post("answer", node="clean", answer={"decision": "approved"})
    provider.requests.clear()
    second = asyncio.run(resume_run(first.run_id, store=store, options=options))
    assert second.status == "COMPLETED"
    assert not (tmp_path / "build").exists()


def test_handoff_and_explain_reach_the_next_agent(tmp_path: Path) -> None:
    from osop.format.workflow import workflow_from_dict

    wf = workflow_from_dict(
        {
            "osop_version": "1.1",
            "id": "h",
            "name": "H",
            "nodes": [
                {
                    "id": "triage",
                    "type": "agent",
                    "handoff": {
                        "summary_for_next_node": "Memory leak in cache.js:142",
                        "expected_output": "A pull request fixing the leak",
                    },
                },
                {
                    "id": "fix",
                    "type": "agent",
                    "purpose": "Fix the bug",
                    "explain": {
                        "what": "patch the cache",
                        "why": "users lose data",
                        "result": "a PR",
                    },
                    "success_criteria": ["All tests pass with 0 failures", "outputs.ok == true"],
                },
            ],
            "edges": [{"from": "triage", "to": "fix"}],
        }
    )
    ctx = make_ctx({"id": "x", "type": "agent"}, tmp_path)
    ctx.workflow, ctx.node = wf, wf.node("fix")
    assert agent_prompt(ctx) == (
        "Context from triage: Memory leak in cache.js:142\n\nFix the bug\n\n"
        "Details: patch the cache\n\nWhy: users lose data\n\nExpected result: a PR"
    )
    from osop.executors.agent import prose_criteria

    assert prose_criteria(ctx) == [
        "All tests pass with 0 failures",
        "A pull request fixing the leak",
    ]


@pytest.mark.parametrize("met", [True, False])
def test_prose_criteria_are_judged_by_the_model(tmp_path: Path, met: bool) -> None:
    def script(request: ChatRequest, turn: int) -> ChatResponse:
        if request.output_schema and "verdicts" in request.output_schema["properties"]:
            verdict = {"verdicts": [{"criterion": 1, "met": met, "reason": "checked the diff"}]}
            return ChatResponse(json.dumps(verdict), usage=Usage(50, 5), model="claude-sonnet-4")
        return ChatResponse("the fix", usage=Usage(100, 10), model="claude-sonnet-4")

    provider = Scripted(script)
    node = {"success_criteria": ["The fix has a regression test"]}
    if met:
        result = agent(node, tmp_path, provider)
        assert result.ai_metadata is not None
        assert result.ai_metadata["criteria"] == [
            {
                "criterion": "The fix has a regression test",
                "met": True,
                "reason": "checked the diff",
            }
        ]
        assert result.ai_metadata["prompt_tokens"] == 150  # the verdict is paid for too
        assert [t.get("purpose") for t in result.ai_metadata["turns"]] == [None, "criteria"]
    else:
        with pytest.raises(NodeFailure) as info:
            agent(node, tmp_path, provider)
        assert info.value.code == "SUCCESS_CRITERIA"
        assert "checked the diff" in info.value.message
