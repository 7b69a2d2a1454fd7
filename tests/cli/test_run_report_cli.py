"""The report of a run is one command away: `osop run --report FILE`, `osop report RUN_ID`."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from osop.cli.main import cli

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "release-check.osop.yaml"


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OSOP_HOME", raising=False)
    return tmp_path


def test_run_writes_report_and_report_finds_run_by_id(in_tmp: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        cli, ["run", str(EXAMPLE), "-q", "--mode", "simulated", "--report", "out.html"]
    )
    assert result.exit_code == 0, result.output
    page = (in_tmp / "out.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "COMPLETED" in page and "<script" not in page
    mode = stat.S_IMODE((in_tmp / "out.html").stat().st_mode)
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask  # an ordinary file, not mkstemp's 0600
    hint = next(line for line in result.output.splitlines() if "report: osop report" in line)
    prefix = hint.rsplit(" ", 1)[1]

    listed = json.loads(runner.invoke(cli, ["runs", "--json"]).output)
    assert listed[0]["run_id"].startswith(prefix)
    text = runner.invoke(cli, ["report", prefix, "--format", "text"])
    assert text.exit_code == 0
    assert "Release readiness check" in text.output and "[PASS]" in text.output
    assert max(len(line) for line in text.output.splitlines()) <= 80


def test_report_of_unknown_run_is_a_clean_error(in_tmp: Path) -> None:
    result = CliRunner().invoke(cli, ["report", "no-such-run"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ") and "no run 'no-such-run'" in result.stderr
