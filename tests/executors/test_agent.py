from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from osop.executors.agent import AgentExecutor, agent_prompt
from osop.executors.base import NodeFailure, NodeResult
from osop.llm import ChatRequest, ChatResponse, OfflineProvider, Usage, complete

from .helpers import make_ctx, run

TRIAGE = {
    "id": "triage",
    "type": "agent",
    "purpose": "Classify the bug report",
    "runtime": {"provider": "offline", "model": "m1"},
    "outputs": [
        {"name": "severity", "schema": "critical | high | medium | low"},
        {"name": "is_duplicate", "schema": "boolean"},
        {"name": "summary", "schema": "string"},
    ],
}


@pytest.fixture(autouse=True)
def no_provider_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OSOP_LLM_PROVIDER", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def agent(node: dict[str, Any], tmp_path: Path, **kw: Any) -> NodeResult:
    return run(AgentExecutor().execute(make_ctx(node, tmp_path, **kw)))


def test_offline_structured_outputs_are_deterministic(tmp_path: Path) -> None:
    first = agent(TRIAGE, tmp_path, inputs={"title": "crash on save"})
    second = agent(TRIAGE, tmp_path, inputs={"title": "crash on save"})
    assert first.outputs == second.outputs
    assert set(first.outputs) == {"severity", "is_duplicate", "summary"}
    assert first.outputs["severity"] in {"critical", "high", "medium", "low"}
    assert isinstance(first.outputs["is_duplicate"], bool)
    assert first.ai_metadata is not None
    assert first.ai_metadata["provider"] == "offline"
    assert first.ai_metadata["model"] == "m1"
    assert first.ai_metadata["prompt_tokens"] > 0
    assert first.ai_metadata["cost_usd"] == 0.0


def test_offline_answer_depends_on_the_prompt(tmp_path: Path) -> None:
    answers = {
        json.dumps(agent(TRIAGE, tmp_path, inputs={"n": n}).outputs, sort_keys=True)
        for n in range(12)
    }
    assert len(answers) > 1


def test_offline_classification_picks_an_option(tmp_path: Path) -> None:
    node = {
        "id": "route",
        "type": "agent",
        "runtime": {"provider": "offline", "options": ["billing", "tech", "sales"]},
        "outputs": [{"name": "queue"}],
    }
    result = agent(node, tmp_path)
    assert result.outputs["queue"] in {"billing", "tech", "sales"}
    assert list(result.outputs) == ["queue"]


def test_offline_free_text(tmp_path: Path) -> None:
    node = {"id": "write", "type": "agent", "purpose": "Write a haiku"}
    result = agent({**node, "runtime": {"provider": "offline"}}, tmp_path)
    assert "Write a haiku" in result.outputs["text"]


def test_environment_overrides_provider(tmp_path: Path) -> None:
    node = {**TRIAGE, "runtime": {"provider": "anthropic", "model": "claude"}}
    result = agent(node, tmp_path, env={"OSOP_LLM_PROVIDER": "offline"})
    assert result.ai_metadata is not None and result.ai_metadata["provider"] == "offline"


def test_unknown_provider(tmp_path: Path) -> None:
    node = {**TRIAGE, "runtime": {"provider": "acme-llm", "model": "x"}}
    with pytest.raises(NodeFailure) as info:
        agent(node, tmp_path)
    assert info.value.code == "NO_PROVIDER"
    assert info.value.retryable is False


@pytest.mark.parametrize(
    "runtime",
    [{"model": "claude-sonnet-4-20250514"}, {"provider": "anthropic", "model": "claude"}],
)
def test_live_without_credentials_fails_and_says_what_to_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runtime: dict[str, Any]
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(NodeFailure) as info:
        agent(
            {"id": "review", "type": "agent", "purpose": "Review the PR", "runtime": runtime},
            tmp_path,
        )
    assert info.value.code == "NO_CREDENTIALS"
    assert "ANTHROPIC_API_KEY" in info.value.message
    assert info.value.retryable is False


def test_live_without_any_provider_never_falls_back(tmp_path: Path) -> None:
    node = {"id": "review", "type": "agent", "purpose": "Review the PR"}
    for runtime in ({}, {"model": "my-own-model"}):
        with pytest.raises(NodeFailure) as info:
            agent({**node, "runtime": runtime}, tmp_path)
        assert info.value.code == "NO_PROVIDER"
        assert "runtime.provider" in info.value.message


def test_simulated_and_dry_run_use_the_offline_provider(tmp_path: Path) -> None:
    node = {
        "id": "review",
        "type": "agent",
        "purpose": "Review the PR",
        "runtime": {"model": "claude-sonnet-4-20250514"},
    }
    for mode in ("simulated", "dry_run"):
        result = agent(node, tmp_path, mode=mode)
        assert result.ai_metadata is not None
        assert result.ai_metadata["provider"] == "offline"


def test_prompt_includes_purpose_explain_and_inputs(tmp_path: Path) -> None:
    node = {**TRIAGE, "explain": {"what": "compare titles"}}
    prompt = agent_prompt(make_ctx(node, tmp_path, inputs={"b": 2, "a": 1}))
    assert (
        prompt == 'Classify the bug report\n\nDetails: compare titles\n\nInputs:\n{"a": 1, "b": 2}'
    )


class ScriptedProvider:
    name = "scripted"

    def __init__(self, text: str) -> None:
        self.text = text
        self.calls: list[dict[str, Any]] = []

    async def chat(self, request: ChatRequest) -> ChatResponse:
        self.calls.append({"request": request})
        return ChatResponse(self.text, usage=Usage(1000, 500), model="claude-sonnet-4")


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ('{"severity": "low", "is_duplicate": false, "summary": "s"}', True),
        ('```json\n{"severity": "low", "is_duplicate": false, "summary": "s"}\n```', True),
        ('{"severity": "low"}', False),
        ("not json", False),
        ("[1]", False),
    ],
)
def test_structured_answer_validation(tmp_path: Path, text: str, ok: bool) -> None:
    provider = ScriptedProvider(text)
    node = {**TRIAGE, "runtime": {"provider": "scripted", "model": "x"}}
    services = {"llm_providers": {"scripted": provider}}
    if ok:
        result = agent(node, tmp_path, services=services)
        assert result.outputs["severity"] == "low"
        assert result.cost_usd == pytest.approx(1000 * 3e-6 + 500 * 15e-6)
    else:
        with pytest.raises(NodeFailure) as info:
            agent(node, tmp_path, services=services)
        assert info.value.code == "BAD_LLM_OUTPUT"
        assert info.value.retryable


def test_option_matching(tmp_path: Path) -> None:
    node = {
        "id": "r",
        "type": "agent",
        "runtime": {"provider": "scripted", "model": "x", "options": ["yes", "no"]},
    }
    for text, expected in [("Yes.", "yes"), ("I think: no", "no")]:
        services = {"llm_providers": {"scripted": ScriptedProvider(text)}}
        assert agent(node, tmp_path, services=services).outputs == {"decision": expected}
    services = {"llm_providers": {"scripted": ScriptedProvider("yes and no")}}
    with pytest.raises(NodeFailure):
        agent(node, tmp_path, services=services)


def test_openai_without_key(tmp_path: Path) -> None:
    node = {"id": "a", "type": "agent", "runtime": {"provider": "openai", "model": "m"}}
    with pytest.raises(NodeFailure) as info:
        agent(node, tmp_path)
    assert info.value.code == "NO_CREDENTIALS"


def test_offline_provider_direct() -> None:
    completion = run(
        complete(OfflineProvider(), "hello", "m", fields={"n": "integer", "xs": "array"})
    )
    data = json.loads(completion.text)
    assert isinstance(data["n"], int) and data["xs"] == []
    assert completion.cost_usd == 0.0
