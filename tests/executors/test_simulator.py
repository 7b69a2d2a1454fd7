from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from osop.executors.base import NodeFailure
from osop.executors.simulator import (
    SimulatedExecutor,
    example_outputs,
    placeholder,
    plain_outputs,
)

from .helpers import make_ctx, run


def simulate(node: dict[str, Any], tmp_path: Path, **kw: Any) -> Any:
    return run(SimulatedExecutor().execute(make_ctx(node, tmp_path, mode="simulated", **kw)))


def test_x_simulate_outputs(tmp_path: Path) -> None:
    node = {"id": "build", "type": "cli", "x-simulate": {"outputs": {"version": "1.0"}}}
    result = simulate(node, tmp_path)
    assert result.outputs == {"version": "1.0"}


def test_outputs_from_declared_examples_and_types(tmp_path: Path) -> None:
    node = {
        "id": "triage",
        "type": "agent",
        "outputs": [
            {"name": "severity", "schema": "critical | high | medium | low"},
            {"name": "component", "schema": "string"},
            {"name": "is_duplicate", "schema": "boolean"},
            {"name": "count", "type": "integer"},
            {"name": "tag", "type": "string", "example": "bug"},
            {"name": "level", "enum": ["low", "high"]},
            {"name": "items", "type": "array"},
            {"name": "fallback", "default": 7},
        ],
    }
    assert simulate(node, tmp_path).outputs == {
        "severity": "critical",
        "component": "<component>",
        "is_duplicate": True,
        "count": 0,
        "tag": "bug",
        "level": "low",
        "items": [],
        "fallback": 7,
    }


def test_example_outputs_shapes() -> None:
    assert example_outputs(["a", "b"]) == {"a": "<a>", "b": "<b>"}
    assert example_outputs({"x": {"type": "number"}, "x-note": 1}) == {"x": 0}
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}}
    assert example_outputs(schema) == {"ok": True}
    assert example_outputs(None) == {}
    assert placeholder("d", {"type": ["null", "string"], "examples": ["e1", "e2"]}) == "e1"
    assert placeholder("d", "list[str]") == []
    assert placeholder("d", "FeatureMatrix") == "<d>"


def test_deterministic(tmp_path: Path) -> None:
    node = {"id": "n", "type": "data", "outputs": [{"name": "rows", "type": "array"}]}
    first = simulate(node, tmp_path).outputs
    assert first == simulate(node, tmp_path).outputs


def test_fail_attempts_then_succeed(tmp_path: Path) -> None:
    node = {
        "id": "flaky",
        "type": "api",
        "x-simulate": {"fail_attempts": 2, "error": {"code": "HTTP_503", "message": "down"}},
    }
    for attempt in (1, 2):
        with pytest.raises(NodeFailure) as info:
            simulate(node, tmp_path, attempt=attempt)
        assert info.value.code == "HTTP_503"
        assert info.value.message == "down"
        assert info.value.retryable
    assert simulate(node, tmp_path, attempt=3).outputs == {}


def test_status_failed_always_fails(tmp_path: Path) -> None:
    node = {"id": "n", "type": "cli", "x-simulate": {"status": "FAILED"}}
    for attempt in (1, 5):
        with pytest.raises(NodeFailure) as info:
            simulate(node, tmp_path, attempt=attempt)
        assert info.value.code == "SIMULATED_FAILURE"


def test_services_override_forces_failure(tmp_path: Path) -> None:
    node = {"id": "n", "type": "cli", "x-simulate": {"outputs": {"a": 1}}}
    services = {"simulation": {"n": {"fail_attempts": 1, "error": {"code": "EXIT_2"}}}}
    with pytest.raises(NodeFailure) as info:
        simulate(node, tmp_path, services=services)
    assert info.value.code == "EXIT_2"
    assert simulate(node, tmp_path, services=services, attempt=2).outputs == {"a": 1}


def test_duration_uses_injected_sleep_and_defaults_to_none(tmp_path: Path) -> None:
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    node = {"id": "n", "type": "cli", "x-simulate": {"duration_ms": 1500}}
    simulate(node, tmp_path, services={"sleep": fake_sleep})
    assert slept == [1.5]
    slept.clear()
    simulate({"id": "m", "type": "cli"}, tmp_path, services={"sleep": fake_sleep})
    assert slept == []


def test_timed_out_sleeps_past_the_timeout(tmp_path: Path) -> None:
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    node = {"id": "n", "type": "cli", "timeout_sec": 5, "x-simulate": {"status": "TIMED_OUT"}}
    with pytest.raises(NodeFailure) as info:
        simulate(node, tmp_path, services={"sleep": fake_sleep}, timeout_sec=5.0)
    assert info.value.code == "TIMEOUT"
    assert slept == [6.0]


def test_human_defaults_to_approved(tmp_path: Path) -> None:
    result = simulate({"id": "review", "type": "human"}, tmp_path)
    assert result.outputs == {"decision": "approved"}
    assert result.human_metadata["decision"] == "approved"
    assert result.human_metadata["actor"] == "simulator"


def test_human_default_respects_options(tmp_path: Path) -> None:
    node = {"id": "pick", "type": "human", "runtime": {"options": ["ship", "hold"]}}
    assert simulate(node, tmp_path).outputs["decision"] == "ship"


def test_human_uses_the_answer(tmp_path: Path) -> None:
    answer = {"decision": "rejected", "notes": "no", "actor": "bob"}
    result = simulate({"id": "review", "type": "human"}, tmp_path, answer=answer)
    assert result.outputs["decision"] == "rejected"
    assert result.human_metadata["actor"] == "bob"


def test_forced_wait_until_delivered(tmp_path: Path) -> None:
    human = {"id": "review", "type": "human", "x-simulate": {"wait": True}}
    wait = simulate(human, tmp_path).wait
    assert wait is not None and wait.kind == "human" and wait.name == "review"
    assert simulate(human, tmp_path, answer={"decision": "approved"}).wait is None
    event = {
        "id": "hook",
        "type": "event",
        "runtime": {"wait_for": "deployed"},
        "x-simulate": {"wait": True},
    }
    wait = simulate(event, tmp_path).wait
    assert wait is not None and wait.kind == "event" and wait.name == "deployed"
    delivered = simulate(event, tmp_path, delivered={"env": "prod"})
    assert delivered.wait is None and delivered.outputs == {"env": "prod"}


def test_cost_and_ai_metadata(tmp_path: Path) -> None:
    node = {
        "id": "n",
        "type": "agent",
        "x-simulate": {"cost_usd": 0.02, "ai_metadata": {"model": "m", "prompt_tokens": 10}},
    }
    result = simulate(node, tmp_path)
    assert result.cost_usd == 0.02
    assert result.ai_metadata == {"model": "m", "prompt_tokens": 10}


_PLAIN_CASES: list[tuple[dict[str, Any], dict[str, Any] | None, bool]] = [
    # (node, services["simulation"], plain?)
    ({"id": "a", "type": "cli"}, None, True),
    ({"id": "a", "type": "cli", "outputs": ["x", {"name": "y", "type": "integer"}]}, {}, True),
    ({"id": "a", "type": "api", "outputs": {"ok": {"type": "boolean"}}}, {"b": {}}, True),
    ({"id": "a", "type": "cli", "x-simulate": {"outputs": {"v": 1}}}, None, False),
    ({"id": "a", "type": "cli", "x-simulate": {"fail_attempts": 1}}, None, False),
    ({"id": "a", "type": "cli", "x-simulate": None}, None, False),
    ({"id": "a", "type": "cli"}, {"a": {"status": "FAILED"}}, False),
    ({"id": "a", "type": "cli"}, {"a": {}}, False),
    ({"id": "a", "type": "human"}, None, False),
    ({"id": "a", "type": "agent"}, None, False),
    ({"id": "a", "type": "event", "runtime": {"payload": {"p": 1}}}, None, False),
]


@pytest.mark.parametrize(("node", "simulation", "plain"), _PLAIN_CASES)
def test_plain_outputs_are_what_execute_returns(
    node: dict[str, Any], simulation: dict[str, Any] | None, plain: bool, tmp_path: Path
) -> None:
    """The engine takes ``plain_outputs`` instead of calling ``execute``: whenever it
    answers, ``execute`` returns those outputs and nothing else."""
    ctx = make_ctx(node, tmp_path, mode="simulated", services={"simulation": simulation})
    outputs = plain_outputs(ctx.node, simulation)
    assert (outputs is not None) is plain
    if outputs is None:
        return
    result = run(SimulatedExecutor().execute(ctx))
    assert result.outputs == outputs
    assert (result.wait, result.ai_metadata, result.human_metadata, result.cost_usd) == (
        None,
        None,
        None,
        None,
    )
    assert result.tools_used == [] and result.children == []
    assert plain_outputs(ctx.node, simulation) is not outputs  # a fresh mapping each time
