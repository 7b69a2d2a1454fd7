"""The engine conformance cases on the Temporal host: records equal to the local host's.

Each case of tests/conformance/engine runs twice, locally (the kit's own runner)
and on a real Temporal dev server (an in-process worker), and the two records
must agree node for node: status, attempt, iteration, outputs and error code of
every node record, in each node's order, and the run's status and waits.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from temporal_server import history_text, in_process_worker

from osop.engine import RunOptions, RunStore
from osop.engine.runner import materialise_record
from osop.errors import RunRefusedError
from osop.format.api import load_workflow
from osop.format.validate import validate_text
from osop.record.model import record_from_dict
from osop.security import SecretStore
from osop.temporal.connection import TemporalTarget

pytestmark = pytest.mark.slow

CASES_DIR = Path(__file__).parents[1] / "conformance" / "engine"
CASES = sorted(p.parent for p in CASES_DIR.glob("*/case.yaml"))


def _params() -> list[Any]:
    out = []
    for case_dir in CASES:
        case = yaml.safe_load((case_dir / "case.yaml").read_text()) or {}
        for mode in case.get("modes", ("simulated", "live")):
            out.append(pytest.param(case_dir, mode, id=f"{case_dir.name}-{mode}"))
    return out


def _local(case_dir: Path, mode: str, tmp_path: Path) -> Any:
    from conformance.engine.test_engine_conformance import _run_case

    folder = tmp_path / "local"
    folder.mkdir()
    result, _events = _run_case(case_dir, mode, folder)
    return result


async def _on_temporal(case_dir: Path, mode: str, tmp_path: Path, target: TemporalTarget) -> Any:
    from osop.temporal.runs import answer_run, signal_run, start_temporal_run, wait_for_run

    case = yaml.safe_load((case_dir / "case.yaml").read_text()) or {}
    folder = tmp_path / "temporal"
    folder.mkdir()
    for name in case.get("copy", []):
        shutil.copy(case_dir / name, folder / name)
    path = case_dir / "workflow.osop.yaml"
    options = RunOptions(
        mode=mode,  # type: ignore[arg-type]
        inputs=dict(case.get("inputs") or {}),
        answers={k: dict(v) for k, v in (case.get("answers") or {}).items()},
        events=list(case.get("events") or []),
        seed=case.get("seed", 7),
        simulation=dict(case.get("simulation") or {}) if mode == "simulated" else {},
    )
    env = {"PATH": "/usr/bin:/bin", **(case.get("env") or {})}
    # A run on Temporal takes its secrets from the worker that runs the step.
    secrets = SecretStore(case.get("secrets") or {}, environ={})
    async with in_process_worker(target, folder, env=env, secrets=secrets) as client:
        run_id = await start_temporal_run(
            target,
            load_workflow(path),
            source=path.read_bytes(),
            options=options,
            workflow_path=path,
            client=client,
        )
        result = await wait_for_run(target, run_id, client=client)
        for step in case.get("then") or []:
            if "approve" in step:
                spec = step["approve"]
                await answer_run(
                    target, run_id, spec["node"], spec.get("answer") or {}, client=client
                )
            elif "signal" in step:
                spec = step["signal"]
                await signal_run(target, run_id, spec["name"], spec.get("data"), client=client)
            elif "resume" in step:
                result = await wait_for_run(target, run_id, client=client)
        handle = client.get_workflow_handle(run_id)
        journal = await handle.query("journal")
        # Each child run (sub-workflow, spawn) is a run of its own, with its own record.
        children = {
            node: record_from_dict(await client.get_workflow_handle(child).query("record"))
            for node, child in (result.record.extra.get("x-child-runs") or {}).items()
        }
        history = await history_text(handle)
    for secret in (case.get("expect") or {}).get("absent") or ():
        assert secret not in history, f"{secret!r} is in the run's Temporal history"
        assert secret not in json.dumps(journal), f"{secret!r} is in the journal"
        assert secret not in json.dumps(result.record.to_dict()), f"{secret!r} is in the record"
    return result, journal, children


#: Output keys that hold the moment something happened (two runs never share it).
MOMENTS = frozenset({"answered_at"})


def _outputs(outputs: Any) -> str:
    if isinstance(outputs, dict):
        outputs = {k: v for k, v in outputs.items() if k not in MOMENTS}
    return json.dumps(outputs, sort_keys=True, default=str)


def _decisions(entries: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """Every edge slot decided taken, and not taken, over the whole run."""
    taken: list[str] = []
    not_taken: list[str] = []
    for entry in entries:
        taken += [json.dumps(slot) for slot in entry.get("taken") or ()]
        not_taken += [json.dumps(slot) for slot in entry.get("not") or ()]
    return sorted(taken), sorted(not_taken)


def _trace(record: Any) -> dict[str, list[tuple[Any, ...]]]:
    out: dict[str, list[tuple[Any, ...]]] = {}
    for r in record.node_records:
        out.setdefault(r.node_id, []).append(
            (
                r.attempt,
                r.iteration,
                r.status,
                _outputs(r.outputs),
                r.error.code if r.error is not None else None,
            )
        )
    return out


@pytest.mark.parametrize(("case_dir", "mode"), _params())
def test_case_on_temporal_equals_local(
    case_dir: Path, mode: str, tmp_path: Path, target: TemporalTarget
) -> None:
    try:
        local = _local(case_dir, mode, tmp_path)
    except RunRefusedError as refusal:
        with pytest.raises(RunRefusedError) as again:
            asyncio.run(_on_temporal(case_dir, mode, tmp_path, target))
        assert str(again.value) == str(refusal)
        return
    remote, journal, children = asyncio.run(_on_temporal(case_dir, mode, tmp_path, target))
    record = remote.record
    report = validate_text(
        json.dumps(record.to_dict()), "record.osoplog.json", kind="log", max_bytes=None
    )
    assert report.ok(), [i.format() for i in report.issues if i.is_error]
    assert record.status == local.record.status
    assert remote.paused == local.paused
    assert sorted(w["node"] for w in remote.waiting) == sorted(w["node"] for w in local.waiting)
    assert _trace(record) == _trace(local.record)
    assert record.workflow_hash == local.record.workflow_hash
    # The edges taken: which nodes ran at all, and which were skipped, are in the
    # traces above; the decisions themselves must match too.
    local_entries = [
        json.loads(line) for line in local.handle.journal_path.read_text().splitlines()
    ]
    assert _decisions(journal) == _decisions(local_entries)
    # Child runs: linked from the same nodes, their records equal node for node, and
    # each names its parent run and node, as locally.
    local_children = local.record.extra.get("x-child-runs") or {}
    assert sorted(children) == sorted(local_children)
    store = RunStore(tmp_path / "local" / ".osop")
    for node, child in children.items():
        local_child = materialise_record(store.get(local_children[node]))
        assert child.status == local_child.status
        assert _trace(child) == _trace(local_child)
        assert child.workflow_id == local_child.workflow_id
        assert child.workflow_hash == local_child.workflow_hash
        assert child.extra.get("x-parent-run") == {"run_id": record.run_id, "node_id": node}
        assert (local_child.extra.get("x-parent-run") or {}).get("node_id") == node
