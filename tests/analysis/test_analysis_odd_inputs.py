"""Odd and hostile records: every analysis answers, none raises a traceback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from osop.analysis.conformance import replay
from osop.analysis.diff_records import diff_records
from osop.analysis.export_ocel import build_ocel
from osop.analysis.export_xes import write_xes
from osop.analysis.infer import infer_workflow
from osop.analysis.stats import compute_stats
from osop.cli.main import cli
from osop.format.workflow import workflow_from_dict
from osop.record.model import record_from_dict
from osop.render.report import render_report

WF = workflow_from_dict(
    {
        "id": "w",
        "nodes": [{"id": "a", "type": "cli"}, {"id": "b", "type": "cli"}],
        "edges": [{"from": "a", "to": "b"}],
    }
)

scalar = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=False), st.text(max_size=8)
)
timestamps = st.one_of(
    st.none(),
    st.sampled_from(["2026-01-01T00:00:00Z", "2026-01-01T00:00:05+02:00", "not a time", ""]),
    st.integers(),
)
node_record = st.fixed_dictionaries(
    {
        "node_id": st.one_of(st.sampled_from(["a", "b", "c"]), scalar),
        "node_type": st.one_of(st.sampled_from(["cli", "human", "agent"]), scalar),
        "status": st.one_of(
            st.sampled_from(["COMPLETED", "FAILED", "SKIPPED", "TIMEOUT", "success"]), scalar
        ),
        "attempt": st.one_of(st.integers(-1, 4), scalar),
        "started_at": timestamps,
        "ended_at": timestamps,
    },
    optional={
        "duration_ms": st.one_of(st.integers(-10, 10**9), scalar),
        "error": st.one_of(st.text(max_size=20), st.fixed_dictionaries({"code": scalar})),
        "outputs": st.one_of(scalar, st.dictionaries(st.text(max_size=5), scalar, max_size=3)),
        "human_metadata": st.one_of(scalar, st.fixed_dictionaries({"actor": scalar})),
        "ai_metadata": st.one_of(scalar, st.fixed_dictionaries({"cost_usd": scalar})),
        "iteration": st.one_of(st.integers(0, 3), scalar),
    },
)
run = st.fixed_dictionaries(
    {
        "run_id": scalar,
        "workflow_id": st.sampled_from(["w", "x"]),
        "status": st.one_of(st.sampled_from(["COMPLETED", "FAILED", "RUNNING"]), scalar),
        "started_at": timestamps,
        "node_records": st.lists(node_record, max_size=6),
    },
    optional={"duration_ms": scalar, "cost": st.fixed_dictionaries({"total_usd": scalar})},
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(run, min_size=1, max_size=3))
def test_every_analysis_survives(runs: list[dict[str, Any]]) -> None:
    import io

    records = [record_from_dict(r) for r in runs]
    # JSON outputs stay strict JSON (no NaN/Infinity) whatever the records hold
    json.dumps([s.to_dict() for s in compute_stats(records)], allow_nan=False)
    for rec in records:
        res = replay(WF, rec)
        assert 0.0 <= res.fitness <= 1.0
        json.dumps(res.to_dict(), allow_nan=False, default=str)
        for fmt in ("html", "text", "ansi"):
            render_report(WF, rec, fmt)
    json.dumps(diff_records(records[0], records[-1]).to_dict(), allow_nan=False, default=str)
    write_xes(records, io.StringIO())
    json.dumps(build_ocel(records))
    infer_workflow(records)


@pytest.mark.parametrize(
    "content",
    [
        "",
        "[]",
        "node_records: 5",
        "a: &x [*x]",
        "{" * 5000,
        "node_records:\n" + "  - &a {node_id: a}\n" + "  - *a\n" * 3,
        "\x00\x01binary",
    ],
)
def test_unreadable_files_are_errors_not_tracebacks(tmp_path: Path, content: str) -> None:
    bad = tmp_path / "bad.osoplog.yaml"
    bad.write_text(content)
    runner = CliRunner()
    for args in (
        ["stats", str(bad)],
        ["export", str(bad), "--to", "ocel", "-o", str(tmp_path / "o.json")],
        ["report", str(bad)],
        ["synthesize", str(bad), "-o", str(tmp_path / "o.osop")],
    ):
        result = runner.invoke(cli, args)
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            args,
            result.exception,
        )
        assert "Traceback" not in result.output
    result = runner.invoke(cli, ["diff", str(bad), str(bad)])
    assert result.exit_code in (0, 1, 2) and "Traceback" not in result.output
