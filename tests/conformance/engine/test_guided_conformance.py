"""Guided-run conformance: every engine case, carried out by a scripted caller.

Each case of this kit runs twice in simulated mode: executed (the simulator
produces each step's result) and guided (every step is handed out, and a
scripted caller reports exactly what the executed run's record says the step
produced: status, outputs, error).  Approvals and signals the case delivers
(``then``) are delivered when the guided run waits for them.  The two runs
must agree node for node: status, attempts and iterations of every record, and
every edge decision (taken / not taken).

Where the two cannot agree by design, the case is listed in :data:`DIFFERENT`
with the reason, and what the guided run does instead is asserted.
"""

from __future__ import annotations

import asyncio
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from osop.engine import RunOptions, RunStore, VirtualClock, deliver_answer, deliver_event
from osop.engine.guided import GuidedView, guided_steps, report_step, start_guided
from osop.engine.runner import load_run_state
from osop.errors import RunRefusedError
from osop.format.api import load_workflow
from osop.security import SecretStore

HERE = Path(__file__).parent
CASES = sorted(p.parent for p in HERE.glob("*/case.yaml"))

#: Cases whose guided run differs from the executed one on purpose (case → why).
DIFFERENT: dict[str, str] = {
    "workflow-timeout": "the workflow deadline counts the engine's active time; a run "
    "paused for its caller (as for a person) is not active, so it does not time out",
    "error-unhandled": "when a guided run fails, a step handed out and not yet reported "
    "ends CANCELLED; an executed run lets a branch already running finish",
}


def _simulated(case: dict[str, Any]) -> bool:
    return "simulated" in case.get("modes", ("simulated", "live"))


def _options(case: dict[str, Any], tmp: Path) -> RunOptions:
    return RunOptions(
        mode="simulated",
        inputs=dict(case.get("inputs") or {}),
        answers={k: dict(v) for k, v in (case.get("answers") or {}).items()},
        events=list(case.get("events") or []),
        secrets=SecretStore(case.get("secrets") or {}, environ={}),
        env={"PATH": "/usr/bin:/bin", **(case.get("env") or {})},
        workdir=tmp,
        seed=case.get("seed", 7),
        clock=VirtualClock(),
        simulation=dict(case.get("simulation") or {}),
    )


def _executed(case_dir: Path, case: dict[str, Any], tmp: Path) -> tuple[Any, Any]:
    from osop.engine import resume_run, start_run

    path = case_dir / "workflow.osop.yaml"
    store = RunStore(tmp / "executed")
    options = _options(case, tmp)
    result = asyncio.run(
        start_run(
            load_workflow(path),
            source=path.read_bytes(),
            workflow_path=path,
            store=store,
            options=options,
        )
    )
    for step in case.get("then") or []:
        if "approve" in step:
            spec = step["approve"]
            deliver_answer(store, result.run_id, spec["node"], spec.get("answer") or {})
        elif "signal" in step:
            deliver_event(store, result.run_id, step["signal"]["name"], step["signal"].get("data"))
        elif "resume" in step:
            options.clock = VirtualClock()
            result = asyncio.run(resume_run(result.run_id, store=store, options=options))
    return result, load_run_state(store.get(result.run_id))


def _report_of(record: dict[str, Any]) -> dict[str, Any]:
    """What an executor produced for one attempt, as its caller reports it."""
    report: dict[str, Any] = {"status": record["status"], "attempt": record["attempt"]}
    if record.get("outputs"):
        report["outputs"] = record["outputs"]
    if record.get("error"):
        report["error"] = {k: v for k, v in record["error"].items() if k in ("code", "message")}
    if record.get("human_metadata"):
        report["human_metadata"] = record["human_metadata"]
    return report


def _guided(
    case_dir: Path,
    case: dict[str, Any],
    executed: Any,
    tmp: Path,
    *,
    until_first_timeout: bool = False,
) -> Any:
    path = case_dir / "workflow.osop.yaml"
    store = RunStore(tmp / "guided")
    options = _options(case, tmp)
    view: GuidedView = asyncio.run(
        start_guided(
            load_workflow(path),
            source=path.read_bytes(),
            workflow_path=path,
            store=store,
            options=options,
        )
    )
    records = {
        (r["node_id"], r["attempt"], r.get("iteration")): r
        for r in executed.records
        if r["status"] not in ("SKIPPED",)
    }
    order = {
        key: (str(r.get("ended_at") or ""), index) for index, (key, r) in enumerate(records.items())
    }
    deliveries = [s for s in case.get("then") or [] if "resume" not in s]
    for _ in range(500):
        if not view.paused:
            break
        if view.ready:
            # The caller finishes its steps in the order the executed run finished them.
            keys = [(s["node_id"], s["attempt"], s.get("iteration")) for s in view.ready]
            for key in keys:
                assert key in records, f"handed out {key}, which the executed run never ran"
            key = min(keys, key=lambda k: order[k])
            step = view.ready[keys.index(key)]
            if records[key]["status"] == "TIMED_OUT":
                if until_first_timeout:
                    break
                # Not reported in time: the caller asks again after the step's limit.
                late = options.clock.now() + timedelta(seconds=float(step["timeout_sec"]) + 1)
                options.clock = VirtualClock(start=late)
                view = asyncio.run(guided_steps(view.run_id, store=store, options=options))
                continue
            view = asyncio.run(
                report_step(
                    view.run_id,
                    step["node_id"],
                    _report_of(records[key]),
                    store=store,
                    options=options,
                )
            )
            continue
        if not deliveries:
            break  # waits for what the case never delivers: it ends paused, like the executed run
        step = deliveries.pop(0)
        if "approve" in step:
            spec = step["approve"]
            deliver_answer(store, view.run_id, spec["node"], spec.get("answer") or {})
        else:
            deliver_event(store, view.run_id, step["signal"]["name"], step["signal"].get("data"))
        view = asyncio.run(guided_steps(view.run_id, store=store, options=options))
    return view, load_run_state(store.get(view.run_id))


def _summary(state: Any) -> list[tuple[Any, ...]]:
    return sorted(
        (r["node_id"], r["attempt"], r.get("iteration") or 0, r["status"]) for r in state.records
    )


@pytest.mark.parametrize("case_dir", CASES, ids=[c.name for c in CASES])
def test_guided_matches_executed(case_dir: Path, tmp_path: Path) -> None:
    case = yaml.safe_load((case_dir / "case.yaml").read_text()) or {}
    if not _simulated(case):
        pytest.skip(f"a {'/'.join(case['modes'])}-only case: compared in simulated mode only")
    for name in case.get("copy", []):
        shutil.copy(case_dir / name, tmp_path / name)
    if "refused" in {**(case.get("expect") or {}), **(case.get("expect_simulated") or {})}:
        with pytest.raises(RunRefusedError):
            _executed(case_dir, case, tmp_path)
        with pytest.raises(RunRefusedError):
            _guided(case_dir, case, None, tmp_path)
        return
    result, executed = _executed(case_dir, case, tmp_path)
    if case_dir.name == "error-unhandled":
        view, guided = _guided(case_dir, case, executed, tmp_path)
        assert guided.status == executed.status == "FAILED"
        assert guided.node("unrelated").status == "CANCELLED", DIFFERENT[case_dir.name]
        assert executed.node("unrelated").status == "COMPLETED"
        return
    if case_dir.name in DIFFERENT:
        assert executed.status == "TIMED_OUT"
        view, guided = _guided(case_dir, case, executed, tmp_path, until_first_timeout=True)
        assert view.paused and guided.status == "RUNNING", DIFFERENT[case_dir.name]
        return
    view, guided = _guided(case_dir, case, executed, tmp_path)
    assert (view.paused, view.status) == (result.paused, executed.status)
    assert _summary(guided) == _summary(executed)
    assert guided.decisions == executed.decisions
