"""`osop init` templates: each scaffolds a valid workflow that runs in simulated mode."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from osop.cli.main import cli
from osop.engine.options import RunOptions
from osop.engine.runner import start_run
from osop.errors import OsopError
from osop.format.api import load_workflow
from osop.templates import list_templates, scaffold, template_text, title_from_id

NAMES = [t.name for t in list_templates()]


def test_the_promised_templates_are_shipped() -> None:
    assert {
        "basic",
        "deployment",
        "incident-response",
        "api-integration",
        "ai-agent-review",
        "data-pipeline",
        "onboarding",
    } <= set(NAMES)
    assert all(t.summary and t.description for t in list_templates())


@pytest.mark.parametrize("name", NAMES)
def test_scaffold_validates_cleanly_and_runs_simulated(name: str, tmp_path: Path) -> None:
    path = tmp_path / "my-flow.osop.yaml"
    path.write_text(scaffold(name, "my-flow"))
    workflow = load_workflow(path, strict=True)  # strict: warnings count as errors too
    assert workflow.id == "my-flow" and workflow.name == "My flow"
    result = asyncio.run(
        start_run(workflow, source=path.read_bytes(), options=RunOptions(mode="simulated", seed=1))
    )
    assert result.status == "COMPLETED"
    assert result.record is not None
    assert {r.node_id for r in result.record.node_records} == {n.id for n in workflow.nodes}


@pytest.mark.parametrize("name", NAMES)
def test_template_file_keeps_its_comments(name: str) -> None:
    text = scaffold(name, "x-y", 'A title: with "quotes"')
    assert text.startswith("# ")
    data = yaml.safe_load(text)
    assert data["id"] == "x-y" and data["name"] == 'A title: with "quotes"'
    assert scaffold(name) == template_text(name)


@pytest.mark.parametrize(
    "bad", ["My_Flow", "1flow", "flow name", "", "a" * 129, "x\nid: y", "abc\n"]
)
def test_ids_must_be_kebab_case(bad: str) -> None:
    with pytest.raises(OsopError, match="not a valid workflow id"):
        scaffold("basic", bad)


def test_unknown_template_lists_the_known_ones() -> None:
    with pytest.raises(OsopError, match="deployment"):
        template_text("nope")


def test_title_from_id() -> None:
    assert title_from_id("release-train") == "Release train"


def test_init_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    listed = runner.invoke(cli, ["init", "--list"])
    assert listed.exit_code == 0 and "incident-response" in listed.output
    made = runner.invoke(cli, ["init", "release-train", "--template", "deployment"])
    assert made.exit_code == 0, made.output
    created = tmp_path / "release-train.osop.yaml"
    assert yaml.safe_load(created.read_text())["id"] == "release-train"
    created.write_text("mine")
    again = runner.invoke(cli, ["init", "release-train", "--template", "deployment"])
    assert again.exit_code == 1 and "already exists" in again.output
    assert created.read_text() == "mine"
    forced = runner.invoke(cli, ["init", "release-train", "-t", "deployment", "--force"])
    assert forced.exit_code == 0 and created.read_text() != "mine"
    bad = runner.invoke(cli, ["init", "Bad_Name"])
    assert bad.exit_code == 1 and "kebab-case" in bad.output and "Traceback" not in bad.output
    unknown = runner.invoke(cli, ["init", "x", "-t", "nope"])
    assert unknown.exit_code == 1 and "choose one of" in unknown.output
    default = runner.invoke(cli, ["init"])
    assert default.exit_code == 0 and (tmp_path / "basic.osop.yaml").exists()
    nested = runner.invoke(cli, ["init", "triage", "-t", "incident-response", "-o", "ops/t.osop"])
    assert nested.exit_code == 0 and (tmp_path / "ops" / "t.osop").exists()


def test_init_json_output_is_json(tmp_path: Path) -> None:
    target = tmp_path / "flow.osop.json"
    made = CliRunner().invoke(cli, ["init", "flow", "-o", str(target)])
    assert made.exit_code == 0, made.output
    assert json.loads(target.read_text())["id"] == "flow"
    assert load_workflow(target).id == "flow"


def test_init_unwritable_target_is_a_clean_error(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("")
    made = CliRunner().invoke(cli, ["init", "flow", "-o", str(tmp_path / "afile" / "f.osop.yaml")])
    assert made.exit_code == 1 and "cannot write" in made.output
    assert made.exception is None or isinstance(made.exception, SystemExit)


@pytest.mark.parametrize(
    ("bad", "suggested"),
    [("My Flow", "my-flow"), ("Release_Train 2", "release-train-2"), ("Übersicht", "ubersicht")],
)
def test_a_bad_id_comes_with_a_valid_suggestion(bad: str, suggested: str) -> None:
    with pytest.raises(OsopError, match=f"for example '{suggested}'"):
        scaffold("basic", bad)
