"""The record written while a run goes on and when it ends (RecordText, in parts) is,
after every journal entry, exactly the record built from scratch — over every engine
conformance case."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import yaml

from osop.engine import RunOptions, RunStore, VirtualClock, start_run
from osop.engine.journal import read_journal
from osop.engine.recording import RecordText, build_record, node_outputs
from osop.engine.state import RunState
from osop.errors import OsopError
from osop.format.api import load_workflow
from osop.record.writer import record_to_text
from osop.security import SecretStore

CASES = sorted(
    p.parent for p in (Path(__file__).parents[1] / "conformance" / "engine").glob("*/case.yaml")
)


@pytest.mark.parametrize("case_dir", CASES, ids=lambda p: p.name)
def test_incremental_record_equals_the_full_rebuild(
    case_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import osop.engine.recording as recording

    # Two node records per encoded part, so that the seams between parts are checked.
    monkeypatch.setattr(recording, "_ROWS_PER_PART", 2)
    case = yaml.safe_load((case_dir / "case.yaml").read_text())
    if "simulated" not in case.get("modes", ("simulated",)):
        pytest.skip("a case that does not run simulated")
    path = case_dir / "workflow.osop.yaml"
    store = RunStore(tmp_path / ".osop")
    options = RunOptions(
        mode="simulated",
        inputs=dict(case.get("inputs") or {}),
        answers={k: dict(v) for k, v in (case.get("answers") or {}).items()},
        events=list(case.get("events") or []),
        secrets=SecretStore(case.get("secrets") or {}, environ={}),
        env={"PATH": "/usr/bin:/bin"},
        workdir=tmp_path,
        seed=case.get("seed", 7),
        clock=VirtualClock(),
        simulation=dict(case.get("simulation") or {}),
    )
    try:
        workflow = load_workflow(path)
        result = asyncio.run(
            start_run(
                workflow, source=path.read_bytes(), workflow_path=path, store=store, options=options
            )
        )
    except OsopError:
        pytest.skip("the case is refused before it runs")
    handle = store.get(result.run_id)
    state = RunState()
    writer = RecordText()
    compared = 0
    for entry in read_journal(handle.journal_path):
        state.apply(entry)
        if not state.meta:
            continue
        expected = record_to_text(build_record(state), "json", compact=True)
        assert writer.text(state) == expected, entry
        outputs = json.dumps(node_outputs(state), ensure_ascii=False, default=str)
        assert writer.outputs_text(state) == outputs, entry
        compared += 1
    assert compared > 0
    # The session's last write encodes the record it built anyway, part by part.
    record = build_record(state)
    assert "".join(RecordText.final_parts(record)) == record_to_text(record, "json", compact=True)
    # ... and the one written straight from the attempts, the record built only if asked for
    assert "".join(RecordText.final_parts_of(state)) == record_to_text(record, "json", compact=True)
    assert handle.record_path.read_text(encoding="utf-8") == record_to_text(
        result.record, "json", compact=True
    )
    assert result.status == record.status


def test_a_record_with_no_node_records_is_written_whole() -> None:
    from dataclasses import replace

    state = RunState()
    state.apply(
        {"t": "run", "run_id": "r1", "workflow_id": "w", "started_at": "2026-01-01T00:00:00Z"}
    )
    record = replace(build_record(state), node_records=())
    assert "".join(RecordText.final_parts(record)) == record_to_text(record, "json", compact=True)


def test_truncation_keeps_a_small_mapping_as_it_is() -> None:
    from osop.engine.values import truncate_value

    small = {"n": 1, "text": "short"}
    assert truncate_value(small) is small
    big = {"n": 1, "text": "x" * 100_000}
    cut = truncate_value(big)
    assert cut is not big and cut["n"] == 1 and cut["text"]["truncated"] is True
    assert big["text"] == "x" * 100_000  # the given mapping is never changed


def test_a_result_builds_its_record_once_when_first_read() -> None:
    from dataclasses import replace

    from osop.engine.options import RunResult
    from osop.record.model import RunRecord

    built: list[RunRecord] = []

    def build() -> RunRecord:
        built.append(
            RunRecord(
                run_id="r", workflow_id="w", status="COMPLETED", started_at=None, node_records=()
            )
        )
        return built[-1]

    result = RunResult.built_later(build, run_id="r", status="COMPLETED")
    assert built == []
    assert result.status == "COMPLETED" and result.exit_code == 0
    assert result.record is built[0]
    assert result.record is built[0] and len(built) == 1
    assert replace(result).record == result.record
    try:
        result.no_such_field  # noqa: B018
    except AttributeError as exc:
        assert "no_such_field" in str(exc)
    else:
        raise AssertionError("a missing attribute was found")


@pytest.mark.parametrize("count", [0, 1, 2, 3, 4, 7, 9])
def test_outputs_are_encoded_a_few_nodes_at_a_time_as_one_dump(
    count: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """outputs.json is written in batches of nodes; joined, they are json.dumps's text."""
    import datetime

    import osop.engine.recording as recording

    monkeypatch.setattr(recording, "_OUTPUTS_PER_PART", 3)
    state = RunState()
    values: list[object] = [
        {"n": 1},
        {"é": "ünï", "list": [1, 2.5, None, True]},
        {"when": datetime.date(2026, 12, 3)},
        {},
        {"nested": {"a": {"b": "\u2028"}}},
    ]
    for i in range(count):
        state.node(f"n{i}").outputs = values[i % len(values)]  # type: ignore[assignment]
    expected = json.dumps(node_outputs(state), ensure_ascii=False, default=str)
    assert RecordText().outputs_text(state) == expected
