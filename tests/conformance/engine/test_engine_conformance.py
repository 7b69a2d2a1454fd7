"""The engine conformance kit: every case folder here is a workflow plus its expected trace.

``<case>/workflow.osop.yaml`` is run in each mode ``<case>/case.yaml`` lists
(default: simulated and live) and the outcome is compared with ``expect``
(overridden per mode by ``expect_simulated`` / ``expect_live``)::

    inputs: {KEY: VALUE}            # workflow inputs
    answers: {node: {decision: approved}}
    events: [{name: NAME, data: {...}}]
    secrets: {NAME: VALUE}
    simulation: {node: {fail_attempts: 1}}   # simulator overrides (simulated only)
    seed: 7
    then:                            # after the first session: deliver, resume
      - approve: {node: gate, answer: {decision: approved}}
      - signal: {name: NAME, data: {...}}
      - resume: {}
    expect:
      status: COMPLETED              # run status of the last session
      paused: false
      waiting: [node]                # nodes a paused run waits for
      nodes: {a: COMPLETED}          # final status per node (last record)
      attempts: {a: 2}               # node records that are not SKIPPED
      iterations: {a: 3}             # distinct loop iterations recorded
      order: [[a, b]]                # a finished before b started
      ends_before: [[a, b]]          # a finished before b finished
      concurrent: [[b, c]]           # b and c overlapped (live: real concurrency)
      outputs: {a: {key: value}}     # subset of the node's final outputs
      errors: {a: EXIT_3}            # error code of the node's last record
      absent: [text]                 # never appears in the record or journal (secrets)
      children: 1                    # child runs linked from the record
      absent_files: [name]           # files the run must not create (dry_run)
      absent_in_record: [text]       # never appears in the record (classified data)
      file_lines: {name: 1}          # lines a live run's commands appended (side-effect counts)
      run_inputs: {env: staging}     # the run's inputs as recorded (variables.inputs)
      refused: [text]                # the run is refused before it starts (RunRefusedError
                                     # whose message holds each text); no run is stored
"""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from osop.engine import (
    RunOptions,
    RunStore,
    SystemClock,
    VirtualClock,
    deliver_answer,
    deliver_event,
    resume_run,
    start_run,
)
from osop.errors import RunRefusedError
from osop.format.api import load_workflow
from osop.format.validate import validate_text
from osop.security import SecretStore

HERE = Path(__file__).parent
CASES = sorted(p.parent for p in HERE.glob("*/case.yaml"))
MODES = ("simulated", "live")


def _params() -> list[Any]:
    params = []
    for case_dir in CASES:
        case = yaml.safe_load((case_dir / "case.yaml").read_text())
        for mode in case.get("modes", MODES):
            marks = [pytest.mark.slow] if case.get("slow") and mode == "live" else []
            if mode == "live" and shutil.which("sh") is None:
                marks.append(pytest.mark.skip(reason="live cases run shell commands"))
            params.append(pytest.param(case_dir, mode, id=f"{case_dir.name}-{mode}", marks=marks))
    return params


def _run_case(case_dir: Path, mode: str, tmp_path: Path) -> tuple[Any, list[dict[str, Any]]]:
    case = yaml.safe_load((case_dir / "case.yaml").read_text()) or {}
    for name in case.get("copy", []):
        shutil.copy(case_dir / name, tmp_path / name)
    path = case_dir / "workflow.osop.yaml"
    workflow = load_workflow(path)
    events: list[dict[str, Any]] = []
    store = RunStore(tmp_path / ".osop")
    options = RunOptions(
        mode=mode,  # type: ignore[arg-type]
        inputs=dict(case.get("inputs") or {}),
        answers={k: dict(v) for k, v in (case.get("answers") or {}).items()},
        events=list(case.get("events") or []),
        secrets=SecretStore(case.get("secrets") or {}, environ={}),
        env={"PATH": "/usr/bin:/bin", **(case.get("env") or {})},
        workdir=tmp_path,
        seed=case.get("seed", 7),
        progress=events.append,
        clock=VirtualClock() if mode == "simulated" else SystemClock(),
        simulation=dict(case.get("simulation") or {}) if mode == "simulated" else {},
    )
    result = asyncio.run(
        start_run(
            workflow, source=path.read_bytes(), workflow_path=path, store=store, options=options
        )
    )
    for step in case.get("then") or []:
        if "approve" in step:
            spec = step["approve"]
            deliver_answer(store, result.run_id, spec["node"], spec.get("answer") or {})
        elif "signal" in step:
            spec = step["signal"]
            deliver_event(store, result.run_id, spec["name"], spec.get("data"))
        elif "resume" in step:
            options.clock = VirtualClock() if mode == "simulated" else SystemClock()
            result = asyncio.run(resume_run(result.run_id, store=store, options=options))
    return result, events


def _expectations(case: dict[str, Any], mode: str) -> dict[str, Any]:
    expect = dict(case.get("expect") or {})
    expect.update(case.get(f"expect_{mode}") or {})
    return expect


def _index(events: list[dict[str, Any]], kind: str, node: str, last: bool = False) -> int:
    found = [i for i, e in enumerate(events) if e["event"] == kind and e.get("node") == node]
    assert found, f"no {kind} event for {node}"
    return found[-1] if last else found[0]


@pytest.mark.parametrize(("case_dir", "mode"), _params())
def test_case(case_dir: Path, mode: str, tmp_path: Path) -> None:
    case = yaml.safe_load((case_dir / "case.yaml").read_text()) or {}
    expect = _expectations(case, mode)
    if "refused" in expect:
        with pytest.raises(RunRefusedError) as refusal:
            _run_case(case_dir, mode, tmp_path)
        for text in expect["refused"]:
            assert text in str(refusal.value), str(refusal.value)
        runs = RunStore(tmp_path / ".osop").runs
        assert not runs.exists() or not any(runs.iterdir()), "a refused run left a folder"
        for name in expect.get("absent_files") or []:
            assert not (tmp_path / name).exists(), f"{name} was created"
        return
    result, events = _run_case(case_dir, mode, tmp_path)
    record = result.record
    report = validate_text(
        json.dumps(record.to_dict()), "record.osoplog.json", kind="log", max_bytes=None
    )
    assert report.ok(), [i.format() for i in report.issues if i.is_error]
    summary = [(r.node_id, r.attempt, r.iteration, r.status, r.error) for r in record.node_records]
    assert record.status == expect.get("status", "COMPLETED"), summary
    assert result.paused == expect.get("paused", False), summary
    if "waiting" in expect:
        assert sorted(w["node"] for w in result.waiting) == sorted(expect["waiting"])
    last: dict[str, Any] = {}
    for r in record.node_records:
        last[r.node_id] = r
    for node, status in (expect.get("nodes") or {}).items():
        assert node in last, f"{node} has no record: {summary}"
        assert last[node].status == status, f"{node}: {summary}"
    for node, count in (expect.get("attempts") or {}).items():
        ran = [r for r in record.node_records if r.node_id == node and r.status != "SKIPPED"]
        assert len(ran) == count, f"{node}: {summary}"
    for node, count in (expect.get("iterations") or {}).items():
        its = {
            r.iteration for r in record.node_records if r.node_id == node and r.status != "SKIPPED"
        }
        assert len(its) == count, f"{node}: {summary}"
    for before, after in expect.get("order") or []:
        assert _index(events, "node_finished", before, last=True) < _index(
            events, "node_started", after
        ), f"{before} should end before {after} starts"
    for before, after in expect.get("ends_before") or []:
        assert _index(events, "node_finished", before, last=True) < _index(
            events, "node_finished", after, last=True
        ), f"{before} should end before {after} ends"
    for a, b in expect.get("concurrent") or []:
        assert _index(events, "node_started", a) < _index(events, "node_finished", b)
        assert _index(events, "node_started", b) < _index(events, "node_finished", a)
    for node, subset in (expect.get("outputs") or {}).items():
        outputs = last[node].outputs or {}
        for key, value in subset.items():
            assert outputs.get(key) == value, f"{node}.{key}: {outputs}"
    for node, code in (expect.get("errors") or {}).items():
        assert last[node].error is not None and last[node].error.code == code, summary
    if "absent" in expect:
        texts = [json.dumps(record.to_dict(), default=str)]
        assert result.handle is not None
        for path in result.handle.path.iterdir():
            if path.is_file():
                texts.append(path.read_text(errors="replace"))
        texts.append(json.dumps(events, default=str))
        for secret in expect["absent"]:
            assert all(secret not in text for text in texts), f"{secret!r} leaked"
    for name, count in (expect.get("file_lines") or {}).items():
        assert len((tmp_path / name).read_text().splitlines()) == count, name
    for text in expect.get("absent_in_record") or []:
        assert text not in json.dumps(record.to_dict()), f"{text!r} is in the record"
    for name in expect.get("absent_files") or []:
        assert not (tmp_path / name).exists(), f"{name} was created"
    for name, value in (expect.get("run_inputs") or {}).items():
        assert ((record.variables or {}).get("inputs") or {}).get(name) == value, record.variables
    if "children" in expect:
        assert len(record.extra.get("x-child-runs") or {}) == expect["children"]
    if "seed" in expect:
        assert (record.runtime or {}).get("seed") == expect["seed"]
    if "messages" in expect:
        assert len(record.extra.get("x-messages") or []) == expect["messages"]
