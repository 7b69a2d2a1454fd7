"""The streaming, plain-data path of `osop stats` gives exactly the figures of the
object path (`compute_stats` over full records), record shape by record shape."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from osop.analysis.records import plain_record, read_plain_records, read_records
from osop.analysis.stats import StatsAccumulator, compute_stats
from osop.cli.main import cli
from osop.record.model import record_from_dict

from .generator import generate
from .processes import REVIEW_STEPS, REVIEW_TREE, SYNTH_STEPS, SYNTH_TREE


def _both(records: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    reference = [s.to_dict() for s in compute_stats(record_from_dict(r) for r in records)]
    acc = StatsAccumulator()
    for data in records:
        acc.add_plain(plain_record(copy.deepcopy(data)))
    return reference, [s.to_dict() for s in acc.finish()]


@pytest.mark.parametrize(
    ("tree", "steps"), [(REVIEW_TREE, REVIEW_STEPS), (SYNTH_TREE, SYNTH_STEPS)]
)
def test_generated_processes(tree: Any, steps: Any) -> None:
    records = generate(tree, steps, 120, seed=3).records
    assert all(plain_record(r).nodes is not None for r in records)  # the fast path is taken
    reference, fast = _both(records)
    assert fast == reference


def _run(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "osoplog_version": "1.0",
        "run_id": "0d6c7a4e-3f0b-4f7e-9a43-6f7c2d1e9b10",
        "workflow_id": "shapes",
        "status": "FAILED",
        "started_at": "2026-01-01T00:00:00.000Z",
        "ended_at": "2026-01-01T00:00:10.000Z",
        "node_records": [
            # a retry: attempt 1 fails, attempt 2 succeeds (one execution)
            {
                "node_id": "a",
                "node_type": "api",
                "attempt": 1,
                "status": "FAILED",
                "started_at": "2026-01-01T00:00:00.000Z",
                "ended_at": "2026-01-01T00:00:01.000Z",
                "duration_ms": 1000,
                "error": {"code": "E_NET", "message": "reset"},
            },
            {
                "node_id": "a",
                "node_type": "api",
                "attempt": 2,
                "status": "COMPLETED",
                "started_at": "2026-01-01T00:00:02.000Z",
                "ended_at": "2026-01-01T00:00:02.500Z",
                "duration_ms": 500.0,
                "cost_usd": 0.5,
            },
            # loop iterations: new executions, no durations (from timestamps)
            {
                "node_id": "b",
                "node_type": "human",
                "attempt": 1,
                "iteration": 0,
                "status": "COMPLETED",
                "started_at": "2026-01-01T00:00:03.000Z",
                "ended_at": "2026-01-01T00:00:04.250Z",
                "human_metadata": {"response_time_ms": 900},
            },
            {
                "node_id": "b",
                "node_type": "human",
                "attempt": 1,
                "iteration": 1,
                "status": "COMPLETED",
                "started_at": "2026-01-01T00:00:04+00:00",
                "ended_at": "2026-01-01T00:00:05.5Z",
            },
            {
                "node_id": "c",
                "node_type": "agent",
                "attempt": 1,
                "status": "TIMED_OUT",
                "started_at": "2026-01-01T00:00:06.000Z",
                "ended_at": "2026-01-01T00:00:09.000Z",
                "duration_ms": 2999.5,
                "error": {"code": 7},
                "ai_metadata": {"cost_usd": 0.25, "model": "m"},
            },
            {
                "node_id": "d",
                "node_type": "cli",
                "attempt": 1,
                "status": "SKIPPED",
                "started_at": "2026-01-01T00:00:09.000Z",
            },
            {
                "node_id": "e",
                "node_type": "cli",
                "attempt": 1,
                "status": "FAILED",
                "started_at": "not a time",
                "error": {"message": "no code"},
            },
        ],
    }
    base.update(extra)
    return base


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"cost": {"total_usd": 3, "breakdown": [{"node_id": "b", "cost_usd": 0.125}]}},
        {"duration_ms": 12345, "status": "TIMEOUT"},
        {"workflow_version": "2"},
        {"cost": {"breakdown": [{"node_id": "b", "cost_usd": 0.125}, {"node_id": "d"}]}},
    ],
    ids=["plain", "cost-total", "duration-and-legacy-status", "version", "breakdown-only"],
)
def test_record_shapes(extra: dict[str, Any]) -> None:
    records = [_run(**extra), _run(**extra, run_id="6f1c2b7a-9d8e-4c3b-8a2f-1e0d9c8b7a60")]
    assert plain_record(records[0]).nodes is not None
    reference, fast = _both(records)
    assert fast == reference


def test_lenient_records_take_the_object_path() -> None:
    odd = _run()
    odd["node_records"][0]["status"] = "TIMEOUT"  # a legacy spelling: read leniently
    del odd["node_records"][1]["attempt"]
    assert plain_record(odd).nodes is None
    reference, fast = _both([odd, _run()])
    assert fast == reference


def test_streaming_reader_matches_the_record_reader(tmp_path: Path) -> None:
    records = generate(REVIEW_TREE, REVIEW_STEPS, 20, seed=5).records
    for i, data in enumerate(records):
        (tmp_path / f"{i:03}.osoplog.json").write_text(json.dumps(data))
    (tmp_path / "copy.osoplog.json").write_text(json.dumps(records[0]))  # counted once
    paths = sorted(tmp_path.iterdir())
    plain_failures: list[Any] = []
    full_failures: list[Any] = []
    plain = [(p, r.record()) for p, r in read_plain_records(paths, plain_failures)]
    full = list(read_records(paths, full_failures))
    assert [p for p, _ in plain] == [p for p, _ in full] and len(full) == 20
    assert [r.to_dict() for _, r in plain] == [r.to_dict() for _, r in full]
    assert plain_failures == full_failures and len(full_failures) == 1


def test_stats_command_streams_with_the_same_output(tmp_path: Path) -> None:
    records = generate(REVIEW_TREE, REVIEW_STEPS, 30, seed=9).records
    for i, data in enumerate(records):
        data["mode"] = "live"
        (tmp_path / f"{i:03}.osoplog.json").write_text(json.dumps(data))
    result = CliRunner().invoke(cli, ["stats", str(tmp_path), "--format", "json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    expected = compute_stats(record_from_dict(r) for r in records)
    assert out["workflows"] == [s.to_dict() for s in expected]
    assert out["selection"]["records"] == 30
