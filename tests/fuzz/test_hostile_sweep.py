"""Every command over the generated hostile corpus: no traceback, nothing past 10 s."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from osop.cli.main import cli

from .hostile_corpus import build

_TESTS = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_every_command_over_the_hostile_corpus(tmp_path: Path) -> None:
    workflows, records = build(tmp_path / "corpus")
    assert len(workflows) + len(records) >= 50
    proc = subprocess.run(
        [sys.executable, "-m", "fuzz.sweep", str(tmp_path / "corpus"), str(tmp_path / "w")],
        cwd=_TESTS,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    crashed = [(r["argv"], r["detail"]) for r in rows if r["traceback"]]
    hung = [r["argv"] for r in rows if r["timed_out"]]
    print(f"{len(rows)} invocations, {len(crashed)} tracebacks, {len(hung)} past 10 s")
    assert len(rows) > 1000
    assert crashed == []
    assert hung == []


def _invoke(*argv: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(argv), catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"traceback from osop {' '.join(argv)}") from result.exception
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    build(folder)
    return folder


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("big-int.osop.yaml", "document/bad-number"),
        ("big-int.osop.json", "document/bad-number"),
        ("long-int-timeout.osop.json", "document/bad-number"),
        ("nan.osop.json", "document/bad-number"),
        ("overflow.osop.json", "document/bad-number"),
        ("inf.osop.yaml", "document/bad-number"),
        ("surrogate.osop.json", "document/bad-string"),
        ("surrogate-key.osop.json", "document/bad-string"),
        ("deep.osop.json", "document/too-deep"),
        ("sim-sleep.osop.yaml", "limits/duration"),
        ("timeouts.osop.yaml", "limits/duration"),
        ("backoff.osop.yaml", "limits/duration"),
        ("backoff.osop.yaml", "limits/count"),
        ("loop.osop.yaml", "limits/count"),
        ("weights.osop.yaml", "limits/weight"),
        ("self-import.osop.yaml", "workflow/import-cycle"),
        ("cycle-a.osop.yaml", "workflow/import-cycle"),
    ],
)
def test_hostile_workflows_get_their_own_rule(corpus: Path, name: str, rule: str) -> None:
    code, output = _invoke("validate", str(corpus / name))
    assert code != 0
    assert rule in output


@pytest.mark.parametrize(
    "name",
    [
        "big-int.osoplog.json",
        "nan.osoplog.json",
        "surrogate.osoplog.json",
        "deep.osoplog.json",
        "deep.osoplog.yaml",
        "wrong-status.osoplog.json",
        "wrong-types.osoplog.json",
        "huge-floats.osoplog.json",
        "odd-times.osoplog.json",
    ],
)
@pytest.mark.parametrize("command", ["stats", "report", "diff"])
def test_hostile_records_never_crash_stats_report_diff(
    corpus: Path, name: str, command: str
) -> None:
    argv = [command, str(corpus / name)]
    if command == "diff":
        argv.append(str(corpus / "valid.osoplog.json"))
    _invoke(*argv)


def test_a_bad_record_beside_a_workflow_does_not_stop_its_render(tmp_path: Path) -> None:
    build(tmp_path)
    code, _ = _invoke(
        "render", str(tmp_path / "valid.osop.yaml"), "-f", "html", "-o", str(tmp_path / "o.html")
    )
    assert code == 0
    assert (tmp_path / "o.html").read_text(encoding="utf-8").startswith("<!")


@pytest.mark.parametrize(
    "name",
    ["sim-sleep.osop.yaml", "backoff.osop.yaml", "loop-int.osop.yaml", "self-import.osop.yaml"],
)
def test_unbounded_workflows_are_refused_before_they_run(corpus: Path, name: str) -> None:
    code, output = _invoke(
        "run", str(corpus / name), "--mode", "simulated", "--store", str(corpus / "store"), "-q"
    )
    assert code == 2, output
