from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest

from osop.executors.base import NodeFailure
from osop.executors.human import HumanExecutor

from .helpers import make_ctx, run

REVIEW = {"id": "review", "type": "human", "subtype": "review", "purpose": "Review the PR"}


def test_answer_becomes_outputs_and_metadata(tmp_path: Path) -> None:
    answer = {
        "decision": "approved",
        "notes": "looks good",
        "actor": "alice@example.com",
        "response_time_ms": 45000,
    }
    result = run(HumanExecutor().execute(make_ctx(REVIEW, tmp_path, answer=answer)))
    assert result.outputs == {"decision": "approved", "notes": "looks good"}
    assert result.human_metadata == {
        "actor": "alice@example.com",
        "decision": "approved",
        "notes": "looks good",
        "response_time_ms": 45000,
    }
    assert result.wait is None


def test_approved_flag_answer(tmp_path: Path) -> None:
    result = run(HumanExecutor().execute(make_ctx(REVIEW, tmp_path, answer={"approved": False})))
    assert result.outputs["decision"] == "rejected"


def test_answer_outside_options_is_invalid(tmp_path: Path) -> None:
    with pytest.raises(NodeFailure) as info:
        run(HumanExecutor().execute(make_ctx(REVIEW, tmp_path, answer={"decision": "maybe"})))
    assert info.value.code == "INVALID_ANSWER"


def test_without_answer_it_waits(tmp_path: Path) -> None:
    result = run(HumanExecutor().execute(make_ctx(REVIEW, tmp_path)))
    assert result.wait is not None
    assert result.wait.kind == "human"
    assert result.wait.name == "review"
    assert result.wait.prompt == "Review the PR"
    assert result.wait.details["options"] == ["approved", "rejected"]


def test_free_form_node_waits_with_declared_outputs(tmp_path: Path) -> None:
    node = {"id": "collect", "type": "human", "outputs": [{"name": "budget"}]}
    result = run(HumanExecutor().execute(make_ctx(node, tmp_path)))
    assert result.wait is not None
    assert result.wait.details == {"options": [], "outputs": ["budget"]}


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    replies: list[Any] = []
    asked: list[str] = []

    def fake_prompt(text: str, **kwargs: Any) -> Any:
        asked.append(text)
        choice = kwargs.get("type")
        reply = replies.pop(0)
        if isinstance(choice, click.Choice):
            assert reply in choice.choices
        return reply

    monkeypatch.setattr(click, "prompt", fake_prompt)
    monkeypatch.setattr(click, "echo", lambda *a, **k: None)
    yield replies
    assert not replies


def test_interactive_choice(tmp_path: Path, answers: list[Any]) -> None:
    answers.extend(["rejected", "needs tests"])
    ctx = make_ctx(REVIEW, tmp_path, interactive=True, env={"USER": "carol"})
    result = run(HumanExecutor().execute(ctx))
    assert result.outputs == {"decision": "rejected", "notes": "needs tests"}
    assert result.human_metadata is not None
    assert result.human_metadata["actor"] == "carol"
    assert isinstance(result.human_metadata["response_time_ms"], int)


def test_interactive_free_form(tmp_path: Path, answers: list[Any]) -> None:
    answers.extend(["1200", ""])
    node = {"id": "collect", "type": "human", "outputs": [{"name": "budget"}]}
    result = run(HumanExecutor().execute(make_ctx(node, tmp_path, interactive=True)))
    assert result.outputs == {"budget": "1200", "notes": ""}


def test_runtime_options(tmp_path: Path, answers: list[Any]) -> None:
    answers.extend(["hold", ""])
    node = {"id": "pick", "type": "human", "runtime": {"options": ["ship", "hold"]}}
    result = run(HumanExecutor().execute(make_ctx(node, tmp_path, interactive=True)))
    assert result.outputs["decision"] == "hold"


@pytest.mark.parametrize("reply", ["", "later", "LATER"])
def test_a_person_at_the_terminal_can_defer(tmp_path: Path, answers: list[Any], reply: str) -> None:
    """Deferring leaves the node waiting (the run pauses, exit 3) instead of cancelling it."""
    answers.append(reply)
    result = run(HumanExecutor().execute(make_ctx(REVIEW, tmp_path, interactive=True)))
    assert result.wait is not None and result.wait.kind == "human"
    assert result.outputs == {}


def test_a_reply_outside_the_options_is_asked_again(tmp_path: Path, answers: list[Any]) -> None:
    answers.extend(["aproved", "approved", ""])
    result = run(HumanExecutor().execute(make_ctx(REVIEW, tmp_path, interactive=True)))
    assert result.outputs["decision"] == "approved"


def test_free_form_later_defers(tmp_path: Path, answers: list[Any]) -> None:
    answers.append("later")
    node = {"id": "collect", "type": "human", "outputs": [{"name": "budget"}]}
    result = run(HumanExecutor().execute(make_ctx(node, tmp_path, interactive=True)))
    assert result.wait is not None


@pytest.mark.parametrize(
    ("outputs", "expected"),
    [
        (
            [{"name": "decision", "schema": "approve | request_changes"}],
            ["approve", "request_changes"],
        ),
        ({"decision": {"type": "string", "enum": ["go", "stop"]}}, ["go", "stop"]),
        (
            {"type": "object", "properties": {"decision": {"enum": ["a", "b"]}}},
            ["a", "b"],
        ),
        ([{"name": "decision"}], []),
    ],
)
def test_declared_decision_alternatives_are_the_options(outputs: Any, expected: list[str]) -> None:
    from osop.executors.human import decision_options
    from osop.format.workflow import workflow_from_dict

    wf = workflow_from_dict(
        {
            "osop_version": "1.1",
            "id": "w",
            "name": "W",
            "nodes": [{"id": "h", "type": "human", "outputs": outputs}],
            "edges": [],
        }
    )
    assert decision_options(wf.node("h")) == expected
