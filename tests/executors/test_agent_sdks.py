"""Each vendor SDK driven against a local fake of its API: a real two-turn tool conversation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from osop.executors.agent import AgentExecutor
from osop.executors.base import NodeResult
from osop.llm import price_for

from .fake_llm import BLOCKED, FINAL_TURN, TOOL_TURN, FakeLLM, fake_llm
from .helpers import make_ctx, run

pytest.importorskip("anthropic")
pytest.importorskip("openai")
pytest.importorskip("google.genai")

VENDORS = {
    # vendor: (provider, model asked, model the fake answers as, base_url suffix, key var)
    "anthropic": (
        "anthropic",
        "claude-sonnet-4-20250514",
        "claude-sonnet-4-20250514",
        "",
        "ANTHROPIC_API_KEY",
    ),
    "openai": ("openai", "gpt-4o", "gpt-4o-2024-08-06", "/v1", "OPENAI_API_KEY"),
    "google": ("google", "gemini-2.5-flash", "gemini-2.5-flash", "", "GEMINI_API_KEY"),
}


@pytest.fixture
def fake() -> Iterator[FakeLLM]:
    with fake_llm() as server:
        yield server


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in (
        "OSOP_LLM_PROVIDER",
        "ANTHROPIC_API_KEY",
        "OPENAI_API_KEY",
        "GEMINI_API_KEY",
        "GOOGLE_API_KEY",
        "ANTHROPIC_BASE_URL",
        "OPENAI_BASE_URL",
        "GOOGLE_GEMINI_BASE_URL",
        "OSOP_PRICES_FILE",
        "OSOP_PRICES",
    ):
        monkeypatch.delenv(var, raising=False)


def review(vendor: str, fake: FakeLLM, tmp_path: Path, purpose: str, **runtime: Any) -> NodeResult:
    _, model, _, suffix, key_var = VENDORS[vendor]
    node = {
        "id": "review",
        "type": "agent",
        "purpose": purpose,
        "runtime": {"model": model, "tools": ["read_file", "run_command"], **runtime},
        "outputs": [{"name": "summary"}, {"name": "risk", "schema": "low | high"}],
    }
    # The base URL through the SDK's own variable, the key through the run's environment.
    env = {
        key_var: "test-key",
        {
            "anthropic": "ANTHROPIC_BASE_URL",
            "openai": "OPENAI_BASE_URL",
            "google": "GOOGLE_GEMINI_BASE_URL",
        }[vendor]: fake.base + suffix,
    }
    return run(AgentExecutor().execute(make_ctx(node, tmp_path, env=env)))


def expected_cost(model: str) -> float:
    price = price_for(model)
    assert price is not None
    return sum(price.cost(i, o, 0, c) for i, o, c in (TOOL_TURN, FINAL_TURN))


@pytest.mark.parametrize("vendor", sorted(VENDORS))
def test_two_turn_tool_conversation(vendor: str, fake: FakeLLM, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("The cache layer leaks on save.\nsecond line\n")
    result = review(vendor, fake, tmp_path, "Review the PR")
    # The tool really ran and its result went back to the model.
    assert result.outputs == {"summary": "The cache layer leaks on save.", "risk": "low"}
    bodies = fake.bodies(vendor)
    assert len(bodies) == 2
    assert "The cache layer leaks on save." in json.dumps(bodies[1])
    assert "The cache layer leaks on save." not in json.dumps(bodies[0])
    # Tokens and cost are the fake's usage times the price table.
    meta = result.ai_metadata
    assert meta is not None
    provider, _, answered, _, _ = VENDORS[vendor]
    assert meta["provider"] == provider
    assert meta["model"] == answered
    assert meta["prompt_tokens"] == TOOL_TURN[0] + FINAL_TURN[0]
    assert meta["completion_tokens"] == TOOL_TURN[1] + FINAL_TURN[1]
    assert meta["cache_read_tokens"] == FINAL_TURN[2]
    assert meta["cost_usd"] == pytest.approx(expected_cost(answered))
    assert result.cost_usd == pytest.approx(expected_cost(answered))
    assert meta["confidence"] == 0.8
    assert [t["turn"] for t in meta["turns"]] == [1, 2]
    assert meta["tool_calls"][0]["tool"] == "read_file"
    assert meta["tool_calls"][0]["status"] == "ok"
    assert result.tools_used == [{"tool": "read_file", "kind": "osop", "calls": 1}]


@pytest.mark.parametrize("vendor", sorted(VENDORS))
def test_structured_output_mode_and_tools_are_sent(
    vendor: str, fake: FakeLLM, tmp_path: Path
) -> None:
    (tmp_path / "notes.txt").write_text("x\n")
    review(vendor, fake, tmp_path, "Review the PR", system_prompt="You review code.")
    body = fake.bodies(vendor)[0]
    text = json.dumps(body)
    assert '"read_file"' in text and '"run_command"' in text
    assert '"low", "high"' in text  # the declared enum, in the SDK's JSON-schema mode
    if vendor == "anthropic":
        assert body["output_config"]["format"]["type"] == "json_schema"
        assert body["system"] == "You review code."
    elif vendor == "openai":
        assert body["response_format"]["type"] == "json_schema"
        assert body["messages"][0] == {"role": "system", "content": "You review code."}
    else:
        assert body["generationConfig"]["responseMimeType"] == "application/json"


@pytest.mark.parametrize("vendor", sorted(VENDORS))
def test_blocked_command_is_refused_and_the_model_is_told(
    vendor: str, fake: FakeLLM, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    result = review(vendor, fake, tmp_path, f"Run the installer, then touch {marker}")
    assert not marker.exists()
    second = json.dumps(fake.bodies(vendor)[1])
    assert "refused" in second and "blocked" in second.lower()
    assert result.outputs["summary"] == "refused"
    meta = result.ai_metadata
    assert meta is not None
    call = meta["tool_calls"][0]
    assert call["tool"] == "run_command" and call["status"] == "blocked"
    assert call["arguments"] == {"command": BLOCKED}
    assert result.tools_used == [{"tool": "run_command", "kind": "osop", "calls": 1, "blocked": 1}]


def test_read_file_cannot_leave_the_working_directory(fake: FakeLLM, tmp_path: Path) -> None:
    from osop.executors.agent_tools import _inside

    ctx = make_ctx({"id": "a", "type": "agent"}, tmp_path)
    assert _inside(ctx, "../etc/passwd") is None
    assert _inside(ctx, "notes.txt") == (tmp_path / "notes.txt").resolve()


def test_price_override_file(
    fake: FakeLLM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prices = tmp_path / "prices.json"
    prices.write_text(
        json.dumps({"as_of": "2030-01-01", "models": {"gpt-4o": {"input": 1, "output": 2}}})
    )
    monkeypatch.setenv("OSOP_PRICES_FILE", str(prices))
    (tmp_path / "notes.txt").write_text("x\n")
    result = review("openai", fake, tmp_path, "Review the PR")
    assert result.cost_usd == pytest.approx((1200 + 1500 + 200) * 1e-6 + (80 + 60) * 2e-6)
