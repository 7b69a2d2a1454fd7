"""A new user's agent node from the command line: live fails clearly, rehearsals say offline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from osop.cli.main import cli

WORKFLOW = {
    "osop_version": "1.1",
    "id": "pr-review",
    "name": "PR review",
    "nodes": [
        {
            "id": "review",
            "type": "agent",
            "name": "Review",
            "purpose": "Review the PR",
            "runtime": {"model": "claude-sonnet-4-20250514"},
        }
    ],
    "edges": [],
}


@pytest.fixture
def workflow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for var in ("OSOP_HOME", "ANTHROPIC_API_KEY", "OSOP_LLM_PROVIDER", "OSOP_OTEL"):
        monkeypatch.delenv(var, raising=False)
    path = tmp_path / "wf.osop.yaml"
    path.write_text(yaml.safe_dump(WORKFLOW))
    return path


def test_live_without_a_key_fails_and_says_what_to_set(workflow: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["run", str(workflow), "-q", "--log", "out.json"])
    assert result.exit_code == 1
    assert "FAILED" in result.output
    record = json.loads((tmp_path / "out.json").read_text())
    error = record["node_records"][0]["error"]
    assert error["code"] == "NO_CREDENTIALS"
    assert "ANTHROPIC_API_KEY" in error["message"]
    assert "Offline answer" not in json.dumps(record)


def test_simulated_run_answers_offline_and_says_so(workflow: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["run", str(workflow), "-q", "--mode", "simulated", "--log", "out.json"]
    )
    assert result.exit_code == 0, result.output
    record = json.loads((tmp_path / "out.json").read_text())
    assert record["node_records"][0]["ai_metadata"]["provider"] == "offline"
