"""Multi-agent nodes: coordinations, and each agent as a child record with its own cost."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from osop.engine import RunOptions, start_run
from osop.format.api import load_workflow
from osop.llm import ChatRequest, ChatResponse, Usage

from .test_agent_loop import Scripted


def by_role(answers: dict[str, str]) -> Scripted:
    """Each agent answers per its role (found in its prompt); notes what it was shown."""

    def script(request: ChatRequest, turn: int) -> ChatResponse:
        prompt = request.messages[-1].text
        role = next(r for r in answers if f"You are the {r}." in prompt)
        return ChatResponse(answers[role], usage=Usage(1000, 100), model="claude-sonnet-4")

    return Scripted(script)


def run_team(tmp_path: Path, provider: Scripted, runtime: dict[str, Any], **node: Any) -> Any:
    data = {
        "osop_version": "1.1",
        "id": "team",
        "name": "Team",
        "nodes": [
            {
                "id": "research",
                "type": "agent",
                "subtype": "multi-agent",
                "name": "Research",
                "purpose": "Study competitor pricing",
                "runtime": {"provider": "scripted", "model": "claude-sonnet-4", **runtime},
                **node,
            }
        ],
        "edges": [],
    }
    path = tmp_path / "wf.osop.yaml"
    path.write_text(yaml.safe_dump(data))
    options = RunOptions(
        mode="live", workdir=tmp_path, services={"llm_providers": {"scripted": provider}}
    )
    return asyncio.run(start_run(load_workflow(path), source=path.read_bytes(), options=options))


AGENTS = [
    {"role": "researcher", "task": "Collect prices"},
    {"role": "analyst", "task": "Find trends"},
]


def test_sequential_passes_answers_on_and_records_children(tmp_path: Path) -> None:
    provider = by_role({"researcher": "A: 10, B: 12", "analyst": '{"trend": "up"}'})
    result = run_team(tmp_path, provider, {"agents": AGENTS}, outputs=[{"name": "trend"}])
    assert result.status == "COMPLETED", result.record.to_dict()
    records = {r.node_id: r for r in result.record.node_records}
    assert records["research"].outputs == {"trend": "up"}
    researcher = records["research/researcher"]
    assert records["research/analyst"].outputs == {"trend": "up"}
    assert researcher.extra["x-parent_node"] == "research"
    assert researcher.outputs == {"text": "A: 10, B: 12"}
    analyst_prompt = provider.requests[1].messages[-1].text
    assert "Find trends" in analyst_prompt and "A: 10, B: 12" in analyst_prompt
    assert "A: 10, B: 12" not in provider.requests[0].messages[-1].text
    # Each agent's cost once: 2 x (1000 in + 100 out) at the Sonnet price.
    one = 1000 * 3e-6 + 100 * 15e-6
    assert researcher.cost_usd == pytest.approx(one)
    assert result.record.total_cost_usd == pytest.approx(2 * one)
    meta = records["research"].ai_metadata
    assert meta is not None
    assert meta["coordination"] == "sequential" and meta["agents"] == ["researcher", "analyst"]
    assert meta["agents_cost_usd"] == pytest.approx(2 * one)


def test_parallel_agents_see_nothing_of_each_other(tmp_path: Path) -> None:
    provider = by_role({"researcher": "r", "analyst": "a"})
    result = run_team(tmp_path, provider, {"agents": AGENTS, "coordination": "parallel"})
    assert result.status == "COMPLETED"
    records = {r.node_id: r for r in result.record.node_records}
    assert records["research"].outputs == {
        "answers": {"researcher": {"text": "r"}, "analyst": {"text": "a"}}
    }
    for request in provider.requests:
        assert "answered" not in request.messages[-1].text


def test_vote_takes_the_majority(tmp_path: Path) -> None:
    agents = [{"role": "a"}, {"role": "b"}, {"role": "c"}]
    provider = by_role({"a": "approve", "b": "reject", "c": "approve"})
    result = run_team(
        tmp_path,
        provider,
        {"agents": agents, "coordination": "vote", "options": ["approve", "reject"]},
        outputs=[{"name": "decision"}],
    )
    records = {r.node_id: r for r in result.record.node_records}
    assert records["research"].outputs == {"decision": "approve"}
    vote = (records["research"].ai_metadata or {})["vote"]
    assert vote["count"] == 2 and vote["of"] == 3 and not vote["unanimous"]


def test_debate_shows_each_agent_the_others_then_votes(tmp_path: Path) -> None:
    agents = [{"role": "pro"}, {"role": "con"}]
    seen: list[str] = []

    def script(request: ChatRequest, turn: int) -> ChatResponse:
        prompt = request.messages[-1].text
        seen.append(prompt)
        revised = "answered last round" in prompt
        return ChatResponse(
            "ship" if revised or "the pro." in prompt else "wait",
            usage=Usage(10, 1),
            model="claude-sonnet-4",
        )

    result = run_team(
        tmp_path,
        Scripted(script),
        {"agents": agents, "coordination": "debate", "rounds": 2, "options": ["ship", "wait"]},
    )
    records = [r for r in result.record.node_records if r.node_id.startswith("research/")]
    assert [(r.node_id, r.extra["x-round"]) for r in records] == [
        ("research/pro", 1),
        ("research/con", 1),
        ("research/pro", 2),
        ("research/con", 2),
    ]
    con_round_2 = next(p for p in seen[2:] if "the con." in p)
    assert json.dumps({"decision": "ship"}) in con_round_2  # the pro's first answer
    final = next(r for r in result.record.node_records if r.node_id == "research")
    assert final.outputs == {"decision": "ship"}


def test_bad_coordination_is_a_clear_failure(tmp_path: Path) -> None:
    result = run_team(tmp_path, by_role({}), {"agents": AGENTS, "coordination": "anarchy"})
    assert result.status == "FAILED"
    error = result.record.node_records[0].error
    assert error is not None and error.code == "BAD_RUNTIME" and "anarchy" in error.message
