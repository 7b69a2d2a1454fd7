"""`osop stats`: every figure checked against what the generator produced."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from osop.analysis.stats import compute_stats, percentile
from osop.cli.main import cli
from osop.record.model import record_from_dict

from .generator import generate
from .processes import REVIEW_STEPS, REVIEW_TREE

N_RUNS = 300


@pytest.fixture(scope="module")
def generated():  # type: ignore[no-untyped-def]
    return generate(REVIEW_TREE, REVIEW_STEPS, N_RUNS, seed=7)


@pytest.fixture(scope="module")
def stats(generated):  # type: ignore[no-untyped-def]
    result = compute_stats(record_from_dict(r) for r in generated.records)
    assert len(result) == 1
    return result[0]


def test_percentile_matches_numpy_linear() -> None:
    values = sorted([5.0, 1.0, 9.0, 3.0, 7.5, 2.25])
    for p in (0.0, 0.25, 0.5, 0.95, 1.0):
        assert percentile(values, p) == pytest.approx(np.percentile(values, p * 100))


def test_run_level_figures(generated, stats) -> None:  # type: ignore[no-untyped-def]
    truth = generated.truth
    assert stats.total_runs == N_RUNS
    completed = sum(1 for t in truth if t.status == "COMPLETED")
    assert 0 < completed < N_RUNS  # the process does fail now and then
    assert stats.success_rate == pytest.approx(completed / N_RUNS)
    assert stats.status_counts == dict(Counter(t.status for t in truth))
    durations = [t.duration_ms for t in truth]
    assert stats.duration_ms.mean == pytest.approx(np.mean(durations))
    assert stats.duration_ms.p50 == pytest.approx(np.percentile(durations, 50))
    assert stats.duration_ms.p95 == pytest.approx(np.percentile(durations, 95))
    total_cost = sum(e.cost_usd for t in truth for e in t.executions)
    assert stats.total_cost_usd == pytest.approx(total_cost)
    assert stats.avg_cost_usd == pytest.approx(total_cost / N_RUNS)
    retries = sum(len(e.attempts) - 1 for t in truth for e in t.executions)
    assert retries > 0
    assert stats.retries == retries


def test_every_node_figure(generated, stats) -> None:  # type: ignore[no-untyped-def]
    executions = [e for t in generated.truth for e in t.executions]
    node_ids = {e.node_id for e in executions}
    assert set(stats.node_stats) == node_ids
    for node_id in node_ids:
        mine = [e for e in executions if e.node_id == node_id]
        got = stats.node_stats[node_id]
        attempts = [a for e in mine for a in e.attempts]
        failed = [a for a in attempts if a[0] == "FAILED"]
        assert got.executions == len(mine), node_id
        assert got.runs_with_node == len(mine), node_id
        assert got.attempts == len(attempts), node_id
        assert got.failed_attempts == len(failed), node_id
        assert got.failure_rate == pytest.approx(len(failed) / len(attempts)), node_id
        assert got.failed_executions == sum(1 for e in mine if e.attempts[-1][0] == "FAILED")
        transient = sum(1 for e in mine if len(e.attempts) > 1 and e.attempts[-1][0] == "COMPLETED")
        assert got.transient_failures == transient, node_id
        walls = [e.wall_ms for e in mine]
        assert got.duration_ms.mean == pytest.approx(np.mean(walls)), node_id
        assert got.duration_ms.p50 == pytest.approx(np.percentile(walls, 50)), node_id
        assert got.duration_ms.p95 == pytest.approx(np.percentile(walls, 95)), node_id
        assert got.total_cost_usd == pytest.approx(sum(e.cost_usd for e in mine)), node_id
        errors = Counter(err for e in mine for err in e.errors)
        assert dict(got.errors) == dict(errors.most_common(5)), node_id
        waits = [e.wait_ms for e in mine if e.wait_ms is not None]
        if waits:
            assert got.human_wait_ms.mean == pytest.approx(np.mean(waits))
            assert got.human_wait_ms.p95 == pytest.approx(np.percentile(waits, 95))
        else:
            assert got.human_wait_ms is None
    # the interesting ones really are interesting
    assert stats.node_stats["fetch"].transient_failures > 0
    assert stats.node_stats["build"].failed_executions > 0
    assert stats.node_stats["ai_review"].avg_cost_usd == pytest.approx(0.021)


def test_groups_by_workflow_and_version() -> None:
    a = generate(REVIEW_TREE, REVIEW_STEPS, 5, seed=1, version="1.0.0").records
    b = generate(REVIEW_TREE, REVIEW_STEPS, 3, seed=2, version="2.0.0").records
    c = generate(REVIEW_TREE, REVIEW_STEPS, 2, seed=3, workflow_id="other").records
    result = compute_stats(record_from_dict(r) for r in a + b + c)
    keys = [(s.workflow_id, s.workflow_version, s.total_runs) for s in result]
    assert keys == [
        ("generated-process", "1.0.0", 5),
        ("generated-process", "2.0.0", 3),
        ("other", "1.0.0", 2),
    ]


def _write(records: list[dict], folder: Path, encoding: str) -> None:  # type: ignore[type-arg]
    folder.mkdir(parents=True, exist_ok=True)
    for i, record in enumerate(records):
        if encoding == "json":
            (folder / f"run-{i:03}.osoplog.json").write_text(json.dumps(record))
        else:
            (folder / f"run-{i:03}.osoplog.yaml").write_text(yaml.safe_dump(record))


@pytest.mark.parametrize("encoding", ["json", "yaml"])
def test_cli_json_output_over_files(generated, stats, tmp_path, encoding) -> None:  # type: ignore[no-untyped-def]
    _write(generated.records[:40], tmp_path / "logs", encoding)
    result = CliRunner().invoke(cli, ["stats", str(tmp_path / "logs"), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    expected = compute_stats(record_from_dict(r) for r in generated.records[:40])[0]
    assert data["workflows"][0] == json.loads(json.dumps(expected.to_dict()))


def test_cli_text_and_yaml(generated, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _write(generated.records[:10], tmp_path, "json")
    runner = CliRunner()
    text = runner.invoke(cli, ["stats", str(tmp_path / "*.osoplog.json")])
    assert text.exit_code == 0, text.output
    assert "generated-process" in text.output and "fetch" in text.output
    assert all(len(line) <= 100 for line in text.output.splitlines())
    out = runner.invoke(cli, ["stats", str(tmp_path), "--format", "yaml"])
    assert yaml.safe_load(out.output)["workflows"][0]["total_runs"] == 10


def test_cli_reports_unreadable_files_and_continues(generated, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _write(generated.records[:3], tmp_path, "json")
    (tmp_path / "broken.osoplog.json").write_text("{not json")
    result = CliRunner().invoke(cli, ["stats", str(tmp_path), "--format", "json"])
    assert result.exit_code == 0
    assert "broken.osoplog.json" in result.stderr
    assert json.loads(result.stdout)["workflows"][0]["total_runs"] == 3


def test_cli_fails_cleanly_when_nothing_readable(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "broken.osoplog.yaml").write_text("node_records: [")
    result = CliRunner().invoke(cli, ["stats", str(tmp_path)])
    assert result.exit_code == 1
    assert "Error:" in result.stderr and "Traceback" not in result.output


def test_corpus_records(corpus_logs) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(cli, ["stats", *map(str, corpus_logs), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    skipped = result.stderr.count("warning: skipped")
    # the corpus holds one stub with no node_records (MANIFEST: missing_required)
    assert skipped == 1 and "no `node_records`" in result.stderr
    assert sum(w["total_runs"] for w in data["workflows"]) == len(corpus_logs) - skipped


def test_fast_record_reader_matches_the_lenient_one(generated, corpus_logs) -> None:  # type: ignore[no-untyped-def]
    from osop.analysis.records import read_record_data, record_from_data

    for data in generated.records[:50]:
        assert record_from_data(data) == record_from_dict(data)
    for path in corpus_logs:
        try:
            data = read_record_data(path)
        except Exception:
            continue
        assert record_from_data(data) == record_from_dict(data)
    odd = dict(generated.records[0])
    odd["node_records"] = [dict(odd["node_records"][0], status="success", attempt=None)]
    fast = record_from_data(odd)
    assert fast == record_from_dict(odd) and fast.node_records[0].status == "COMPLETED"
    assert fast.notes  # the lenient reader's notes are kept


def test_package_exports_resolve() -> None:
    import osop.analysis as analysis

    for name in analysis.__all__:
        assert getattr(analysis, name) is not None, name
    with pytest.raises(AttributeError):
        _ = analysis.no_such_name
