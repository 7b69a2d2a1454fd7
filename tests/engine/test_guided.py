"""Guided runs: steps handed out to the caller, reports checked, journaled and taken in."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from osop.engine import RunOptions, RunStore, VirtualClock, deliver_answer, start_run
from osop.engine.guided import (
    GuidedView,
    execute_step,
    guided_steps,
    report_step,
    start_guided,
)
from osop.errors import ExecutionError, RunStoreError
from osop.format.api import load_workflow
from osop.format.validate import validate_text
from osop.security import SecretStore

WORKFLOW: dict[str, Any] = {
    "osop_version": "1.1",
    "id": "guided-test",
    "name": "Guided test",
    "nodes": [
        {
            "id": "build",
            "type": "cli",
            "name": "Build",
            "purpose": "Build the package with the release token",
            "explain": {"why": "ship a tested artifact", "result": "the artifact's path"},
            "runtime": {"command": "make build TOKEN=${secrets.TOKEN} ENV=${inputs.env}"},
            "outputs": [
                {"name": "artifact", "schema": {"type": "string"}},
                {"name": "size", "schema": {"type": "integer"}, "required": False},
            ],
            "success_criteria": ["size != 0"],
            "retry_policy": {"max_retries": 1, "backoff_sec": 0},
            "timeout_sec": 600,
            "handoff": {"summary_for_next_node": "the artifact is built"},
        },
        {"id": "route", "type": "gateway", "name": "Route"},
        {
            "id": "review",
            "type": "human",
            "name": "Review",
            "outputs": [{"name": "decision"}],
        },
        {"id": "ship", "type": "cli", "name": "Ship", "runtime": {"command": "echo shipped"}},
        {"id": "drop", "type": "cli", "name": "Drop", "runtime": {"command": "echo dropped"}},
    ],
    "edges": [
        {"from": "build", "to": "route"},
        {"from": "route", "to": "review"},
        {"from": "review", "to": "ship", "mode": "conditional", "when": "decision == 'approved'"},
        {"from": "review", "to": "drop", "mode": "conditional", "when": "decision != 'approved'"},
    ],
}


class Guided:
    """A guided run of a workflow dict in a temporary store."""

    def __init__(self, tmp: Path, data: dict[str, Any], **options: Any) -> None:
        self.path = tmp / "wf.osop.yaml"
        self.path.write_text(yaml.safe_dump(data, sort_keys=False))
        self.store = RunStore(tmp / ".osop")
        options.setdefault("workdir", tmp)
        options.setdefault("secrets", SecretStore({"TOKEN": "tok-s3cret"}, environ={}))
        options.setdefault("inputs", {"env": "prod"})
        self.options = RunOptions(**options)
        self.view: GuidedView = asyncio.run(
            start_guided(
                load_workflow(self.path),
                source=self.path.read_bytes(),
                workflow_path=self.path,
                store=self.store,
                options=self.options,
            )
        )
        self.run_id = self.view.run_id

    def report(self, node: str, **report: Any) -> GuidedView:
        self.view = asyncio.run(
            report_step(self.run_id, node, report, store=self.store, options=self.options)
        )
        return self.view

    def steps(self) -> GuidedView:
        self.view = asyncio.run(guided_steps(self.run_id, store=self.store, options=self.options))
        return self.view

    def ready(self) -> list[str]:
        return [s["node_id"] for s in self.view.ready]

    def journal(self) -> bytes:
        return self.store.get(self.run_id).journal_path.read_bytes()

    def record(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(
            self.store.get(self.run_id).record_path.read_text(encoding="utf-8")
        )
        return data


@pytest.fixture
def guided(tmp_path: Path) -> Guided:
    return Guided(tmp_path, WORKFLOW, agent={"agent": "test-agent", "model": "m-1"})


def test_a_step_handed_out_says_what_to_do_and_never_a_secret(guided: Guided) -> None:
    assert guided.view.paused and guided.view.exit_code == 3
    [step] = guided.view.ready
    assert step["node_id"] == "build" and step["type"] == "cli"
    assert step["purpose"] == "Build the package with the release token"
    assert step["explain"]["why"] == "ship a tested artifact"
    assert step["runtime"]["command"] == "make build TOKEN=${secrets.TOKEN} ENV=prod"
    assert [o["name"] for o in step["outputs"]] == ["artifact", "size"]
    assert step["report"]["outputs"] == ["artifact"]
    assert step["report"]["optional_outputs"] == ["size"]
    assert step["success_criteria"] == ["size != 0"]
    assert (step["attempt"], step["max_attempts"]) == (1, 2)
    assert 0 < step["time_left_sec"] <= 600
    run_dir = guided.store.get(guided.run_id).path
    for path in run_dir.iterdir():
        if path.is_file():
            assert "tok-s3cret" not in path.read_text(errors="replace"), path.name


def test_reports_drive_the_run_to_completed_on_the_chosen_branch(guided: Guided) -> None:
    guided.report("build", status="FAILED", error={"code": "MAKE_2", "message": "no rule"})
    assert guided.ready() == ["build"] and guided.view.ready[0]["attempt"] == 2
    guided.report(
        "build",
        status="COMPLETED",
        outputs={"artifact": "dist/a.tar", "size": 10},
        tool_calls={"bash": 2},
        ai_metadata={"model": "m-1", "prompt_tokens": 100, "completion_tokens": 20},
    )
    # `route` is a gateway: the engine evaluates it itself.
    [review] = guided.view.ready
    assert review["node_id"] == "review"
    assert review["handoff"] == [
        {
            "from": "build",
            "summary_for_next_node": "the artifact is built",
            "outputs": {"artifact": "dist/a.tar", "size": 10},
        }
    ]
    guided.report(
        "review",
        status="COMPLETED",
        outputs={"decision": "approved"},
        human_metadata={"actor": "alice", "decision": "approved"},
    )
    assert guided.ready() == ["ship"]
    guided.report("ship", status="COMPLETED")
    assert guided.view.status == "COMPLETED" and not guided.view.paused
    record = guided.record()
    assert validate_text(json.dumps(record), "r.osoplog.json", kind="log").ok()
    rows = [(r["node_id"], r["attempt"], r["status"]) for r in record["node_records"]]
    assert rows == [
        ("build", 1, "FAILED"),
        ("build", 2, "COMPLETED"),
        ("route", 1, "COMPLETED"),
        ("review", 1, "COMPLETED"),
        ("drop", 1, "SKIPPED"),
        ("ship", 1, "COMPLETED"),
    ]
    build = record["node_records"][1]
    assert build["tools_used"] == [{"tool": "bash", "calls": 2}]
    assert build["ai_metadata"]["prompt_tokens"] == 100
    assert record["node_records"][0]["error"]["code"] == "MAKE_2"
    assert record["node_records"][3]["human_metadata"]["actor"] == "alice"
    assert record["runtime"]["agent"] == "test-agent"
    assert record["runtime"]["engine"] == "osop"


@pytest.mark.parametrize(
    ("node", "report", "message"),
    [
        ("nope", {"status": "COMPLETED"}, "has no node 'nope'"),
        ("ship", {"status": "COMPLETED"}, "is not ready (ready steps: build)"),
        ("build", {"status": "DONE"}, "status 'DONE' does not exist"),
        ("build", {"status": "TIMED_OUT"}, "a timeout is decided by the engine"),
        ("build", {"status": "COMPLETED", "outputs": {}}, "declared output(s) missing: artifact"),
        ("build", {"status": "COMPLETED", "outputs": {"artifact": 3}}, "is not of type 'string'"),
        ("build", {"status": "COMPLETED", "outputs": [1]}, "outputs must be an object"),
        ("build", {"status": "COMPLETED", "attempt": 2, "outputs": {"artifact": "a"}}, "was not"),
        ("build", {"status": "FAILED", "tool_calls": {"bash": -1}}, "whole number"),
        ("build", {"status": "FAILED", "colour": "red"}, "unknown field(s) colour"),
    ],
)
def test_bad_reports_are_refused_and_change_nothing(
    guided: Guided, node: str, report: dict[str, Any], message: str
) -> None:
    before = guided.journal()
    with pytest.raises(ExecutionError) as refused:
        guided.report(node, **report)
    assert message in str(refused.value)
    assert guided.journal() == before


def test_a_second_report_for_the_same_attempt_is_refused(guided: Guided) -> None:
    guided.report("build", status="FAILED", attempt=1)
    before = guided.journal()
    with pytest.raises(ExecutionError, match="attempt 1 of step 'build' was already reported"):
        guided.report("build", status="COMPLETED", attempt=1, outputs={"artifact": "a"})
    assert guided.journal() == before
    guided.report("build", status="COMPLETED", outputs={"artifact": "a"})
    with pytest.raises(ExecutionError, match="already ended COMPLETED"):
        guided.report("build", status="COMPLETED", outputs={"artifact": "a"})


def test_unknown_and_unguided_runs_are_refused(guided: Guided, tmp_path: Path) -> None:
    with pytest.raises(RunStoreError, match="no run"):
        asyncio.run(report_step("0000dead", "build", {}, store=guided.store))
    plain = asyncio.run(
        start_run(
            load_workflow(guided.path),
            store=guided.store,
            options=RunOptions(
                mode="simulated",
                clock=VirtualClock(),
                inputs={"env": "x"},
                answers={"review": {"decision": "approved"}},
            ),
        )
    )
    with pytest.raises(ExecutionError, match="is not a guided run"):
        asyncio.run(guided_steps(plain.run_id, store=guided.store))


def test_a_step_not_reported_in_time_times_out_and_is_retried(tmp_path: Path) -> None:
    clock = VirtualClock()
    run = Guided(tmp_path, WORKFLOW, clock=clock)
    run.options.clock = VirtualClock(start=clock.now() + timedelta(seconds=601))
    run.steps()  # asking after the limit: the engine times the attempt out, journaled
    assert run.ready() == ["build"] and run.view.ready[0]["attempt"] == 2
    first = run.record()["node_records"][0]
    assert (first["status"], first["error"]["code"]) == ("TIMED_OUT", "TIMEOUT")
    # A report that comes too late times its attempt out too; the retries are spent.
    run.options.clock = VirtualClock(start=clock.now() + timedelta(seconds=1300))
    view = run.report("build", status="COMPLETED", outputs={"artifact": "late"})
    assert view.status == "FAILED"
    assert [r["status"] for r in run.record()["node_records"][:2]] == ["TIMED_OUT", "TIMED_OUT"]


DANGEROUS: dict[str, Any] = {
    "osop_version": "1.1",
    "id": "guided-danger",
    "name": "Dangerous",
    "nodes": [
        {"id": "wipe", "type": "cli", "name": "Wipe", "runtime": {"command": "rm -rf ./build"}},
    ],
    "edges": [],
}


def test_a_dangerous_step_is_handed_out_only_after_approval(tmp_path: Path) -> None:
    run = Guided(tmp_path, DANGEROUS, inputs={})
    assert run.view.ready == []
    [waiting] = run.view.waiting
    assert (waiting["node_id"], waiting["kind"]) == ("wipe", "approval")
    with pytest.raises(ExecutionError, match="waits for approval"):
        run.report("wipe", status="COMPLETED")
    deliver_answer(run.store, run.run_id, "wipe", {"decision": "approved", "actor": "ops"})
    run.steps()
    assert run.ready() == ["wipe"]
    assert run.view.ready[0]["security"]["approved_by"]["actor"] == "ops"
    assert run.report("wipe", status="COMPLETED").status == "COMPLETED"


def test_the_engine_executes_a_step_when_asked(tmp_path: Path) -> None:
    run = Guided(tmp_path, {**WORKFLOW}, inputs={"env": "x"})
    run.report("build", status="COMPLETED", outputs={"artifact": "a", "size": 1})
    run.report("review", status="COMPLETED", outputs={"decision": "no"})
    assert run.ready() == ["drop"]
    run.view = asyncio.run(execute_step(run.run_id, "drop", store=run.store, options=run.options))
    assert run.view.status == "COMPLETED"
    drop = next(r for r in run.record()["node_records"] if r["node_id"] == "drop")
    assert drop["outputs"]["stdout"] == "dropped"


def test_a_guided_run_survives_a_new_process(guided: Guided) -> None:
    guided.report("build", status="COMPLETED", outputs={"artifact": "a"})
    # Another store object over the same folder (a new server process) goes on.
    store = RunStore(guided.store.root)
    view = asyncio.run(guided_steps(guided.run_id[:8], store=store))
    assert [s["node_id"] for s in view.ready] == ["review"]
    view = asyncio.run(
        report_step(
            guided.run_id,
            "review",
            {"status": "COMPLETED", "outputs": {"decision": "x"}},
            store=store,
        )
    )
    assert [s["node_id"] for s in view.ready] == ["drop"]


def test_deliveries_to_a_guided_run_do_not_mistake_a_step_for_a_child_run(guided: Guided) -> None:
    from osop.engine import deliver_event

    assert deliver_event(guided.store, guided.run_id, "ping", {"x": 1})
    view = guided.steps()  # the event is taken in; the step is still handed out
    assert [s["node_id"] for s in view.ready] == ["build"]
