"""The studio's pieces on their own: edits through the round trip, the shared
text's minimal change, the command line's refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from osop.cli.main import cli
from osop.studio.edits import EditError, apply_edits
from osop.templates import scaffold


def test_edits_keep_every_untouched_line() -> None:
    text = scaffold("basic", "kept").replace("nodes:\n", "nodes:  # the steps\n", 1)
    edited = apply_edits(
        text,
        "kept.osop.yaml",
        [
            {"op": "set_node", "id": "check_result", "fields": {"role": "lead", "purpose": ""}},
            {"op": "remove_edge", "index": 0},
        ],
    )
    before, after = text.splitlines(), edited.splitlines()
    assert "nodes:  # the steps" in after
    assert "    role: lead" in after
    removed = set(before) - set(after)
    assert removed == {
        "    role: reviewer",
        '    purpose: "A person looks at the result and approves it or sends it back."',
        "  - {from: receive_request, to: do_the_work}",
    }


def test_removing_a_node_removes_its_edges() -> None:
    edited = apply_edits(
        scaffold("basic"), "b.osop.yaml", [{"op": "remove_node", "id": "do_the_work"}]
    )
    assert "do_the_work" not in edited
    assert "edges: []" in edited or "edges:\n" in edited


def test_edits_on_json_keep_key_order() -> None:
    text = json.dumps(
        {"osop_version": "1.1", "id": "j", "nodes": [{"id": "a", "type": "cli"}], "edges": []}
    )
    edited = apply_edits(
        text,
        "j.osop.json",
        [
            {"op": "add_node", "node": {"id": "b", "type": "human", "x-studio": {"x": 1, "y": 2}}},
            {"op": "add_edge", "edge": {"from": "a", "to": "b", "mode": "sequential"}},
        ],
    )
    data = json.loads(edited)
    assert list(data) == ["osop_version", "id", "nodes", "edges"]
    assert data["nodes"][1] == {"id": "b", "type": "human", "x-studio": {"x": 1, "y": 2}}
    assert data["edges"] == [{"from": "a", "to": "b", "mode": "sequential"}]


def test_a_failing_edit_applies_nothing() -> None:
    with pytest.raises(EditError, match="no node 'ghost'"):
        apply_edits(
            scaffold("basic"),
            "b.osop.yaml",
            [{"op": "add_node", "node": {"id": "new"}}, {"op": "remove_node", "id": "ghost"}],
        )


def test_minimal_change_counts_as_yjs_does() -> None:
    from pycrdt import Doc, Text

    from osop.studio.collab import apply_minimal_change

    doc: Doc = Doc()  # type: ignore[type-arg]
    text = Text("name: \U0001f680 launch\nrole: ops\n")
    doc["source"] = text
    changes: list[object] = []
    text.observe(lambda event: changes.append(event.delta))
    apply_minimal_change(text, "name: \U0001f680 launch\nrole: dev ops\n")
    assert str(text) == "name: \U0001f680 launch\nrole: dev ops\n"
    # One small change after the emoji, not a rewrite of the text.
    assert len(changes) == 1 and {"insert": "dev "} in changes[0]  # type: ignore[operator]
    apply_minimal_change(text, "name: \U0001f680 \u00e9t\u00e9\nrole: dev ops\n")
    assert str(text) == "name: \U0001f680 \u00e9t\u00e9\nrole: dev ops\n"
    apply_minimal_change(text, "")
    assert str(text) == ""


def test_studio_command_refuses_a_missing_folder_and_explains_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["studio", str(tmp_path / "nope"), "--no-browser"])
    assert result.exit_code == 2 and "does not exist" in result.output
    import osop.studio

    monkeypatch.setattr(osop.studio, "STATIC_DIR", tmp_path / "missing")
    result = runner.invoke(cli, ["studio", str(tmp_path), "--no-browser"])
    assert result.exit_code == 1
    assert "not built" in result.output and "tasks.py studio" in result.output
    assert "Traceback" not in result.output


def test_studio_help_names_the_extra() -> None:
    result = CliRunner().invoke(cli, ["studio", "--help"])
    assert result.exit_code == 0
    assert "osop-toolkit[studio]" in result.output and "--no-browser" in result.output


def test_three_way_merge_keeps_both_changes_or_says_they_collide() -> None:
    from osop.studio.collab import three_way_merge

    base = "a: 1\nb: 2\nc: 3\n"
    assert (
        three_way_merge(base, "a: 10\nb: 2\nc: 3\n", "a: 1\nb: 2\nc: 30\n")
        == "a: 10\nb: 2\nc: 30\n"
    )
    assert (
        three_way_merge(base, "a: 1\nb: 2\nc: 30\n", "a: 10\nb: 2\nc: 3\n")
        == "a: 10\nb: 2\nc: 30\n"
    )
    assert three_way_merge(base, base, "x: 0\n") == "x: 0\n"
    assert three_way_merge(base, "x: 0\n", base) == "x: 0\n"
    assert three_way_merge(base, "a: 1\nb: 5\nc: 3\n", "a: 1\nb: 6\nc: 3\n") is None


def test_a_hand_edit_and_a_studio_edit_of_one_file_both_survive(tmp_path: Path) -> None:
    from osop.studio.collab import _FileRoom, apply_minimal_change
    from osop.studio.workspace import Workspace

    file = tmp_path / "both.osop.yaml"
    file.write_text(scaffold("basic", "both"))
    room = _FileRoom(Workspace.open(tmp_path), "both.osop.yaml")
    # Someone renames a step in the studio (not yet written) ...
    apply_minimal_change(room.text, str(room.text).replace('"Do the work"', '"Do it well"'))
    # ... while someone else adds a comment by hand at the top of the file.
    file.write_text("# reviewed\n" + file.read_text())
    assert room.persist()
    saved = file.read_text()
    assert saved.startswith("# reviewed\n") and 'name: "Do it well"' in saved
    assert str(room.text) == saved
