"""`osop render -f agent`: the SOP written for an agent that will carry it out."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from osop.cli.main import cli
from osop.format.api import load_workflow
from osop.render.agent import render_agent

WORKFLOW = """
osop_version: "1.1"
id: agent-view
name: Agent view
inputs: {env: {type: string}}
nodes:
  - id: build
    type: cli
    name: Build
    purpose: Build the package
    explain: {why: ship a tested artifact}
    runtime: {command: "make ${inputs.env}"}
    outputs: [{name: artifact, schema: {type: string}}, {name: size, required: false}]
    success_criteria: ["size > 0"]
    retry_policy: {max_retries: 2}
    timeout_sec: 60
  - {id: route, type: gateway, name: Route}
  - id: deploy
    type: cli
    name: Deploy
    approval_gate: {required: true}
    runtime: {command: "deploy"}
edges:
  - {from: build, to: route}
  - {from: route, to: deploy, mode: conditional, when: "artifact != ''"}
"""


def test_the_agent_view_says_what_to_read_do_verify_and_report(tmp_path: Path) -> None:
    path = tmp_path / "wf.osop.yaml"
    path.write_text(WORKFLOW)
    text = render_agent(load_workflow(path))
    assert text.startswith("# SOP for an agent: Agent view")
    assert "- Starts at: `build`" in text and "- Ends at: `deploy`" in text
    assert "- Inputs of the run: `env` (string)" in text
    assert "1. **Build** — `build`, cli node" in text
    assert "   - Do: Build the package" in text and "   - Why: ship a tested artifact" in text
    assert "   - Runtime: command: make ${inputs.env}" in text
    assert "   - Verify: size > 0" in text
    assert "   - Report: `artifact` (string), `size` (optional)" in text
    assert "   - Attempts: up to 3; a failure is retried." in text
    assert "   - Time limit: 60s" in text
    assert "In a guided run the engine evaluates this step itself." in text
    assert "Needs a person's approval first" in text
    assert "osop run WORKFLOW --guided" in text and "osop log RUN NODE" in text
    result = CliRunner().invoke(cli, ["render", str(path), "-f", "agent"])
    assert result.exit_code == 0 and result.output == text
