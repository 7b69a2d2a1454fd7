"""`osop render` and `osop sop build` from the command line."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from osop.cli.main import cli
from osop.errors import OsopError
from osop.render.sop_build import build_sop


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def deploy(sop_tree: Path) -> Path:
    return sop_tree.parent / "flows" / "deploy.osop.yaml"


def test_render_sop_to_html_warns_about_missing_refs(sop_tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "doc.html"
    code, stdout, stderr = run("render", str(sop_tree), "-o", str(out))
    assert code == 0
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert "Warning: Delivery: flows/missing.osop.yaml: file not found" in stderr
    assert stdout == ""


@pytest.mark.parametrize(
    ("fmt", "check"),
    [
        ("svg", lambda t: ET.fromstring(t).tag.endswith("svg")),
        ("mermaid", lambda t: t.startswith("flowchart ")),
        ("story", lambda t: t.startswith("# Deploy the service")),
        ("html", lambda t: t.startswith("<!DOCTYPE html>")),
    ],
)
def test_render_workflow_formats_to_stdout(deploy: Path, fmt: str, check: object) -> None:
    code, stdout, _ = run("render", str(deploy), "--format", fmt)
    assert code == 0
    assert callable(check) and check(stdout)


def test_format_follows_the_output_suffix(deploy: Path, tmp_path: Path) -> None:
    for name, start in (
        ("g.svg", "<svg"),
        ("g.mmd", "flowchart"),
        ("g.md", "```mermaid\nflowchart"),
        ("g.txt", "# "),
        ("g.html", "<!DOCTYPE"),
    ):
        code, _, _ = run("render", str(deploy), "-o", str(tmp_path / name))
        assert code == 0 and (tmp_path / name).read_text().startswith(start), name
    code, stdout, _ = run("render", str(deploy))
    assert code == 0 and stdout.startswith("flowchart")


def test_direction_option(deploy: Path) -> None:
    code, stdout, _ = run("render", str(deploy), "-f", "mermaid", "--direction", "TB")
    assert code == 0 and stdout.startswith("flowchart TB")
    code, lr, _ = run("render", str(deploy), "-f", "svg", "--direction", "LR")
    code, tb, _ = run("render", str(deploy), "-f", "svg", "--direction", "TB")
    width = lambda s: float(ET.fromstring(s).get("width", "0"))  # noqa: E731
    height = lambda s: float(ET.fromstring(s).get("height", "0"))  # noqa: E731
    assert width(lr) > height(lr) and height(tb) > width(tb)


def test_errors_are_clean(sop_tree: Path, tmp_path: Path) -> None:
    broken = sop_tree.parent / "flows" / "broken.osop"
    code, _, stderr = run("render", str(broken), "-f", "svg")
    assert code == 1 and stderr.startswith("Error: ") and "dangling-edge-ref" in stderr
    code, _, stderr = run("render", str(tmp_path / "nope.osop"))
    assert code == 1 and "no such file" in stderr
    code, _, stderr = run("render", str(sop_tree), "-f", "svg")
    assert code == 2 and "html only" in stderr
    record = sop_tree.parent / "flows" / "run-1.osoplog.yaml"
    code, _, stderr = run("render", str(record), "-f", "svg")
    assert code == 1 and "not a workflow" in stderr


def test_output_under_a_file_and_stdin_are_clean_errors(deploy: Path, tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("")
    code, _, stderr = run("render", str(deploy), "-o", str(tmp_path / "afile" / "x.svg"))
    assert code == 1 and stderr.startswith("Error: cannot write") and "afile)" in stderr
    code, _, stderr = run("render", "-")
    assert code == 2 and "stdin is not supported" in stderr


def test_output_through_a_symlink_writes_its_target(deploy: Path, tmp_path: Path) -> None:
    target = tmp_path / "real.svg"
    link = tmp_path / "link.svg"
    link.symlink_to(target)
    assert run("render", str(deploy), "-o", str(link))[0] == 0
    assert link.is_symlink() and target.read_text().startswith("<svg")


def test_sop_build_makes_sections_from_subfolders(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    (lib / "ops").mkdir(parents=True)
    (lib / ".hidden").mkdir()
    flow = {"osop_version": "1.1", "id": "a", "name": "A", "nodes": [{"id": "x", "type": "human"}]}
    (lib / "a.osop.yaml").write_text(yaml.safe_dump(flow))
    (lib / "ops" / "b.osop").write_text(yaml.safe_dump({**flow, "id": "b", "name": "B"}))
    (lib / ".hidden" / "c.osop").write_text(yaml.safe_dump(flow))
    (lib / "ops" / "junk.osop").write_text("nodes: [")
    (lib / "notes.txt").write_text("not a workflow")
    out = tmp_path / "docs" / "handbook.sop"
    code, stdout, stderr = run("sop", "build", str(lib), "-o", str(out), "--name", "Handbook")
    assert code == 0, stderr
    assert "2 workflows in 2 sections" in stdout
    assert "skipped" in stderr and "junk.osop" in stderr
    data = yaml.safe_load(out.read_text())
    assert data["name"] == "Handbook" and data["id"] == "handbook"
    assert [s["name"] for s in data["sections"]] == ["Lib", "Ops"]
    assert data["sections"][1]["workflows"] == [{"ref": "../lib/ops/b.osop", "title": "B"}]
    # the built .sop (its refs lead out of docs/) renders when that is allowed
    code, _, stderr = run(
        "render", str(out), "-o", str(tmp_path / "h.html"), "--allow-outside-refs"
    )
    assert code == 0 and "Warning" not in stderr
    code, _, stderr = run("sop", "build", str(lib), "-o", str(out))
    assert code == 1 and "already exists" in stderr


def test_sop_build_of_an_empty_folder_is_an_error(tmp_path: Path) -> None:
    code, _, stderr = run("sop", "build", str(tmp_path), "-o", str(tmp_path / "x.sop"))
    assert code == 1 and "no workflows found" in stderr
    with pytest.raises(OsopError, match="not a folder"):
        build_sop(tmp_path / "missing", tmp_path / "x.sop")


def test_sop_build_output_must_be_a_sop(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "a.osop").write_text("nodes: [{id: a, type: cli}]\n")
    (lib / "bad.osop").write_text("nodes: [\n")
    code, _, stderr = run("sop", "build", str(lib), "-o", str(tmp_path / "h.html"))
    assert code == 2 and "*.sop" in stderr and not (tmp_path / "h.html").exists()
    code, out, stderr = run("sop", "build", str(lib), "-o", str(tmp_path / "h.sop"))
    assert code == 0 and "1 workflow in 1 section." in out
    skipped = [line for line in stderr.splitlines() if "bad.osop" in line]
    assert len(skipped) == 1 and skipped[0].count("bad.osop") == 1
