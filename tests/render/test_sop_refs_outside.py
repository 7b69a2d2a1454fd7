"""A .sop embeds only workflows inside its own folder unless told otherwise."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from osop.cli.main import cli

_WF = """osop_version: "1.1"
id: {id}
name: {id}
description: marker-{id}
nodes:
  - {{id: a, type: cli, runtime: {{command: "echo a"}}}}
edges: []
"""


def _tree(tmp_path: Path) -> Path:
    (tmp_path / "private.osop.yaml").write_text(_WF.format(id="private"), encoding="utf-8")
    doc = tmp_path / "doc"
    doc.mkdir()
    (doc / "mine.osop.yaml").write_text(_WF.format(id="mine"), encoding="utf-8")
    (doc / "link.osop.yaml").symlink_to(tmp_path / "private.osop.yaml")
    (doc / "s.sop").write_text(
        'sop_version: "1.0"\nid: s\nname: S\nsections:\n  - name: A\n    workflows:\n'
        "      - ref: mine.osop.yaml\n      - ref: ../private.osop.yaml\n"
        f"      - ref: {tmp_path / 'private.osop.yaml'}\n      - ref: link.osop.yaml\n",
        encoding="utf-8",
    )
    return doc


def test_refs_outside_the_folder_are_left_out(tmp_path: Path) -> None:
    doc = _tree(tmp_path)
    out = tmp_path / "o.html"
    result = CliRunner().invoke(cli, ["render", str(doc / "s.sop"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "marker-mine" in html
    assert "marker-private" not in html
    assert result.output.count("outside the .sop file's folder") == 3


def test_an_explicit_option_lets_them_in(tmp_path: Path) -> None:
    doc = _tree(tmp_path)
    out = tmp_path / "o.html"
    argv = ["render", str(doc / "s.sop"), "-o", str(out), "--allow-outside-refs"]
    result = CliRunner().invoke(cli, argv)
    assert result.exit_code == 0, result.output
    assert "marker-private" in out.read_text(encoding="utf-8")


def test_the_validator_warns(tmp_path: Path) -> None:
    doc = _tree(tmp_path)
    result = CliRunner().invoke(cli, ["validate", str(doc / "s.sop")])
    assert "sop/ref-outside-folder" in result.output
