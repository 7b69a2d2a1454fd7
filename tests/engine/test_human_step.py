"""The human step is exact: what may be answered, when the wait began and ended, PAUSED."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from engine_helpers import Runner, cli

import osop
from osop.analysis.stats import compute_stats
from osop.cli.main import cli as osop_cli
from osop.engine import RunResult, VirtualClock, resume_run
from osop.engine.answers import approve
from osop.errors import ExecutionError
from osop.format.validate import validate_path

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
TEN_MINUTES_MS = 10 * 60 * 1000

GATED: dict[str, Any] = {
    "id": "gated",
    "nodes": [cli("build"), cli("deploy", approval_gate={"required": True})],
    "edges": [{"from": "build", "to": "deploy"}],
}

REVIEW: dict[str, Any] = {
    "id": "review-flow",
    "nodes": [
        cli("prepare"),
        {"id": "review", "type": "human", "subtype": "review", "name": "Review"},
        cli("ship"),
    ],
    "edges": [
        {"from": "prepare", "to": "review"},
        {"from": "review", "to": "ship", "mode": "conditional", "when": "decision == 'approved'"},
    ],
}


def pick(options: Any = None, outputs: Any = None) -> dict[str, Any]:
    node: dict[str, Any] = {"id": "pick", "type": "human", "name": "Pick"}
    if options is not None:
        node["runtime"] = {"options": options}
    if outputs is not None:
        node["outputs"] = outputs
    return {
        "id": "pick-flow",
        "nodes": [cli("first"), node],
        "edges": [{"from": "first", "to": "pick"}],
    }


def paused(runner: Runner, data: dict[str, Any], **options: Any) -> RunResult:
    options.setdefault("clock", VirtualClock(T0))
    result = runner.run(data, mode="live", **options)
    assert result.paused, result.record.result_summary
    return result


def inbox(runner: Runner, run_id: str) -> str:
    path = runner.store.get(run_id).inbox_path
    return path.read_text() if path.exists() else ""


def node_records(result: RunResult, node_id: str) -> list[Any]:
    return [r for r in result.record.node_records if r.node_id == node_id]


# -- only a decision the node allows ------------------------------------------------


def test_a_misspelt_decision_is_refused_with_the_allowed_values(runner: Runner) -> None:
    result = paused(runner, GATED)
    with pytest.raises(ExecutionError, match=r"'aproved' is not allowed .*approved, rejected"):
        approve(result.run_id, "deploy", "aproved", store=runner.store)
    assert inbox(runner, result.run_id) == ""  # nothing half-recorded
    approve(result.run_id, "deploy", "approved", store=runner.store)
    done = asyncio.run(resume_run(result.run_id, store=runner.store))
    assert done.status == "COMPLETED"


def test_a_human_node_takes_its_own_options(runner: Runner) -> None:
    result = paused(runner, pick(options=["ship", "hold"]))
    with pytest.raises(ExecutionError, match="use one of ship, hold"):
        approve(result.run_id, "pick", "approved", store=runner.store)
    approve(result.run_id, "pick", "hold", store=runner.store)
    done = asyncio.run(resume_run(result.run_id, store=runner.store))
    assert done.status == "COMPLETED"
    assert done.outputs["pick"]["decision"] == "hold"


def test_a_declared_decision_output_lists_the_options(runner: Runner) -> None:
    outputs = [{"name": "decision", "schema": "approve | request_changes"}]
    result = paused(runner, pick(outputs=outputs))
    with pytest.raises(ExecutionError, match="use one of approve, request_changes"):
        approve(result.run_id, "pick", "approved", store=runner.store)
    approve(result.run_id, "pick", "request_changes", store=runner.store)


def test_a_free_form_node_takes_any_decision(runner: Runner) -> None:
    result = paused(runner, pick(outputs=[{"name": "budget"}]))
    approve(result.run_id, "pick", "whatever", data={"budget": 1200}, store=runner.store)
    done = asyncio.run(resume_run(result.run_id, store=runner.store))
    assert done.outputs["pick"]["budget"] == 1200


def test_cli_refuses_a_misspelt_decision(runner: Runner, tmp_path: Path) -> None:
    result = paused(runner, GATED)
    store = str(tmp_path / ".osop")
    out = CliRunner().invoke(
        osop_cli, ["approve", result.run_id, "deploy", "--decision", "aproved", "--store", store]
    )
    assert out.exit_code == 1
    assert "'aproved' is not allowed" in out.output and "approved, rejected" in out.output
    assert "Traceback" not in out.output


# -- only a node that waits for a person, and only one answer ------------------------


def test_a_node_that_does_not_wait_for_a_person_is_refused(runner: Runner) -> None:
    data = {
        "id": "three",
        "nodes": [cli("build"), cli("deploy", approval_gate={"required": True}), cli("notify")],
        "edges": [{"from": "build", "to": "deploy"}, {"from": "deploy", "to": "notify"}],
    }
    result = paused(runner, data)
    with pytest.raises(
        ExecutionError, match=r"'notify' .* cli node that does not wait for a person"
    ):
        approve(result.run_id, "notify", store=runner.store)
    with pytest.raises(ExecutionError, match=r"'build' .* it ended COMPLETED"):
        approve(result.run_id, "build", store=runner.store)
    with pytest.raises(ExecutionError, match=r"has no node 'nope'"):
        approve(result.run_id, "nope", store=runner.store)
    assert inbox(runner, result.run_id) == ""


def test_a_second_different_answer_needs_replace(runner: Runner) -> None:
    result = paused(runner, REVIEW)
    approve(result.run_id, "review", "rejected", actor="alice", store=runner.store)
    with pytest.raises(ExecutionError, match=r"already answered 'rejected' by alice.*--replace"):
        approve(result.run_id, "review", "approved", actor="bob", store=runner.store)
    # The same answer again (a retried command) is not a conflict.
    approve(result.run_id, "review", "rejected", actor="alice", store=runner.store)
    approve(result.run_id, "review", "approved", actor="bob", replace=True, store=runner.store)
    done = asyncio.run(resume_run(result.run_id, store=runner.store))
    assert done.status == "COMPLETED"
    (review,) = node_records(done, "review")
    assert review.human_metadata is not None
    assert review.human_metadata["actor"] == "bob"
    assert review.human_metadata["decision"] == "approved"


# -- the wait is recorded truthfully ---------------------------------------------------


def answer_then_resume(
    runner: Runner, result: RunResult, node: str, resume_after_min: int, **answer: Any
) -> RunResult:
    """Approve ``node`` 10 minutes after the run paused (at T0), resume it later (fake clocks)."""
    clock = VirtualClock(T0 + timedelta(minutes=10))
    approve(result.run_id, node, "approved", store=runner.store, clock=clock, **answer)
    later = osop.engine.RunOptions(clock=VirtualClock(T0 + timedelta(minutes=resume_after_min)))
    return asyncio.run(resume_run(result.run_id, store=runner.store, options=later))


def test_the_record_spans_the_real_wait(runner: Runner) -> None:
    result = paused(runner, REVIEW)
    asked_at = node_records(result, "review")[0].started_at
    # Answered after 10 minutes, resumed later still: the wait ended with the answer.
    done = answer_then_resume(
        runner, result, "review", 45, actor="alice@example.com", notes="ship it"
    )
    (review,) = node_records(done, "review")
    assert review.status == "COMPLETED"
    assert review.started_at == asked_at == "2026-03-01T09:00:00.000Z"
    assert review.ended_at == "2026-03-01T09:10:00.000Z"
    assert review.duration_ms == TEN_MINUTES_MS
    assert review.human_metadata == {
        "actor": "alice@example.com",
        "decision": "approved",
        "notes": "ship it",
        "response_time_ms": TEN_MINUTES_MS,
    }
    (stats,) = compute_stats([done.record])
    wait = stats.node_stats["review"].human_wait_ms  # what `osop stats` reports
    assert wait is not None and wait.mean == TEN_MINUTES_MS


def test_an_approval_gate_records_who_approved_and_how_long_it_took(runner: Runner) -> None:
    result = paused(runner, GATED)
    done = answer_then_resume(runner, result, "deploy", 30, actor="carol", notes="window confirmed")
    (deploy,) = node_records(done, "deploy")
    assert deploy.status == "COMPLETED"
    assert deploy.started_at == "2026-03-01T09:00:00.000Z"  # the attempt began with the wait
    assert deploy.ended_at == "2026-03-01T09:30:00.000Z"  # and ended when it had run
    assert deploy.human_metadata == {
        "actor": "carol",
        "decision": "approved",
        "notes": "window confirmed",
        "response_time_ms": TEN_MINUTES_MS,
    }


def test_resuming_without_an_answer_keeps_the_wait_start(runner: Runner) -> None:
    result = paused(runner, REVIEW)
    later = osop.engine.RunOptions(clock=VirtualClock(T0 + timedelta(hours=2)))
    again = asyncio.run(resume_run(result.run_id, store=runner.store, options=later))
    assert again.status == "PAUSED"
    (review,) = node_records(again, "review")
    assert review.status == "WAITING"
    assert review.started_at == "2026-03-01T09:00:00.000Z"


# -- PAUSED everywhere --------------------------------------------------------------------


def test_a_paused_run_says_paused_and_its_record_is_valid(runner: Runner) -> None:
    result = paused(runner, REVIEW)
    assert result.status == "PAUSED"
    assert result.record.status == "PAUSED"
    assert repr(result).endswith("status='PAUSED')")
    path = runner.store.get(result.run_id).record_path
    assert json.loads(path.read_text())["status"] == "PAUSED"
    report = validate_path(path)
    assert not [i for i in report.issues if i.severity == "error"], report.issues
    assert (result.record.result_summary or "").startswith("PAUSED: ")


def test_the_python_api_approves_and_resumes(runner: Runner) -> None:
    """What the README shows: pause, approve, resume, without knowing the internals."""
    result = paused(runner, REVIEW)
    for wait in result.waiting:
        osop.approve(result.run_id, wait["node"], "approved", store=runner.store)
    done = asyncio.run(osop.resume(result.run_id, store=runner.store))
    assert done.status == "COMPLETED"
    assert [r.status for r in node_records(done, "ship")] == ["COMPLETED"]


# -- why a dangerous command waits ----------------------------------------------------------


def test_a_dangerous_command_pause_says_why_in_plain_output(tmp_path: Path) -> None:
    wf = tmp_path / "clean.osop.yaml"
    wf.write_text(
        json.dumps(
            {
                "osop_version": "1.1",
                "id": "clean",
                "name": "Clean",
                "nodes": [
                    {
                        "id": "wipe",
                        "type": "cli",
                        "name": "Wipe",
                        "runtime": {"command": "rm -rf build"},
                    }
                ],
                "edges": [],
            }
        )
    )
    out = CliRunner().invoke(osop_cli, ["run", str(wf), "--quiet", "--store", str(tmp_path / "s")])
    assert out.exit_code == 3, out.output
    assert "waiting: wipe (approval)" in out.output
    why = next(line for line in out.output.splitlines() if line.strip().startswith("why:"))
    assert "rm -rf build" in why and "dangerous" in why


def test_the_readme_python_snippet_handles_a_pause(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    snippet = readme.split("## Python", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    data = {"osop_version": "1.1", "name": "Deploy", **GATED}
    (tmp_path / "deploy.osop.yaml").write_text(json.dumps(data))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OSOP_HOME", raising=False)
    exec(compile(snippet, "README.md", "exec"), {})
    assert capsys.readouterr().out.startswith("COMPLETED ")
    (run_dir,) = (tmp_path / ".osop" / "runs").iterdir()
    record = json.loads((run_dir / "record.osoplog.json").read_text())
    deploy = [r for r in record["node_records"] if r["node_id"] == "deploy"]
    assert deploy[-1]["human_metadata"]["notes"] == "checked"


def test_deferring_at_the_terminal_pauses_the_run(
    runner: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    import click

    monkeypatch.setattr(click, "prompt", lambda *a, **k: "later")
    monkeypatch.setattr(click, "echo", lambda *a, **k: None)
    result = paused(runner, REVIEW, interactive=True)
    assert result.status == "PAUSED" and result.exit_code == 3
    assert [w["node"] for w in result.waiting] == ["review"]
    approve(result.run_id, "review", "approved", store=runner.store)
    assert asyncio.run(resume_run(result.run_id, store=runner.store)).status == "COMPLETED"


def test_answers_given_up_front_are_checked_before_the_run_starts(
    runner: Runner, tmp_path: Path
) -> None:
    with pytest.raises(ExecutionError, match=r"'deploy': decision 'aproved' is not allowed"):
        runner.run(GATED, mode="live", answers={"deploy": {"decision": "aproved"}})
    assert not runner.store.runs.exists()  # nothing was started
    wf = runner.write(GATED)
    answers = tmp_path / "answers.yaml"
    answers.write_text("deploy: aproved\n")
    store = tmp_path / "cli-store"
    out = CliRunner().invoke(
        osop_cli, ["run", str(wf), "--answers", str(answers), "--store", str(store)]
    )
    assert out.exit_code == 2, out.output
    assert "approved, rejected" in out.output
    assert not (store / "runs").exists()


def test_resume_answers_are_checked_before_they_are_delivered(
    runner: Runner, tmp_path: Path
) -> None:
    result = paused(runner, GATED)
    answers = tmp_path / "answers.yaml"
    answers.write_text("deploy: aproved\n")
    store = str(tmp_path / ".osop")
    args = ["resume", result.run_id, "--answers", str(answers), "--store", store, "--quiet"]
    out = CliRunner().invoke(osop_cli, args)
    assert out.exit_code == 2, out.output
    assert "approved, rejected" in out.output
    assert inbox(runner, result.run_id) == ""
    answers.write_text("deploy: approved\n")
    assert CliRunner().invoke(osop_cli, args).exit_code == 0


def test_each_command_of_a_for_each_gets_its_own_answer(runner: Runner) -> None:
    """The approval of the first item is spent: the second item's question is new."""
    from test_commands_the_classifier_sees import _for_each_workflow

    (runner.tmp / "victim" / "build").mkdir(parents=True)
    (runner.tmp / "other").mkdir()
    first = paused(runner, _for_each_workflow())
    approve(first.run_id, "clean", "approved", store=runner.store)
    options = osop.engine.RunOptions(mode="live", workdir=runner.tmp)
    second = asyncio.run(resume_run(first.run_id, store=runner.store, options=options))
    assert second.paused and "other" in str(second.waiting)
    approve(second.run_id, "clean", "rejected", notes="keep it", store=runner.store)
    done = asyncio.run(resume_run(first.run_id, store=runner.store, options=options))
    assert done.status == "FAILED"
    assert (runner.tmp / "other").is_dir()


def test_an_answer_is_taken_in_once(runner: Runner) -> None:
    """A delivered answer is journaled once, not again at every resume."""
    from osop.engine.journal import read_journal

    two = {
        "id": "two-reviews",
        "nodes": [
            {"id": "first", "type": "human", "subtype": "review", "name": "First"},
            {"id": "second", "type": "human", "subtype": "review", "name": "Second"},
        ],
        "edges": [{"from": "first", "to": "second"}],
    }
    result = paused(runner, two)
    approve(result.run_id, "first", store=runner.store)
    for _ in range(2):  # the second review is still unanswered: it stays paused
        assert asyncio.run(resume_run(result.run_id, store=runner.store)).status == "PAUSED"
    handle = runner.store.get(result.run_id)
    answers = [e for e in read_journal(handle.journal_path) if e.get("t") == "answer"]
    assert len(answers) == 1
