"""`osop validate`, `osop schema` and `osop migrate` from the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from osop.cli.main import cli

CASES = Path(__file__).resolve().parents[1] / "conformance" / "validator"
GOOD = CASES / "seed-complete-example.osop.yaml"
BAD = CASES / "edge-unknown-node.osop.yaml"
WARN = CASES / "node-missing-name.osop.yaml"


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_valid_file_exits_0_with_summary() -> None:
    code, out, _ = run("validate", str(GOOD))
    assert code == 0
    assert "valid workflow, conformance level 3" in out


def test_invalid_file_exits_1_with_location_and_caret() -> None:
    code, out, _ = run("validate", str(BAD))
    assert code == 1
    assert f"{BAD}:10:23: error edge/unknown-node:" in out
    assert "^" in out


def test_warnings_pass_unless_strict() -> None:
    assert run("validate", str(WARN))[0] == 0
    assert run("validate", "--strict", str(WARN))[0] == 1


def test_json_output_shape() -> None:
    code, out, _ = run("validate", "--format", "json", str(GOOD), str(BAD))
    assert code == 1
    reports = json.loads(out)
    assert [r["valid"] for r in reports] == [True, False]
    issue = reports[1]["issues"][0]
    assert set(issue) >= {"file", "severity", "rule", "message", "pointer", "line", "column"}
    assert issue["pointer"] == "/edges/0/to"
    assert reports[0]["level"] == 3 and reports[0]["kind"] == "workflow"


def test_folder_and_glob_expansion() -> None:
    code, out, _ = run("validate", "--format", "json", str(CASES))
    files = {r["file"] for r in json.loads(out)}
    assert str(GOOD) in files and len(files) > 40
    code, out, _ = run("validate", "--format", "json", str(CASES / "seed-*.osop.yaml"))
    assert code == 0 and len(json.loads(out)) == 6


def test_stdin() -> None:
    code, out, _ = run("validate", "--kind", "workflow", "-", stdin=GOOD.read_text())
    assert code == 0 and "<stdin>: valid workflow" in out
    code, out, _ = run("validate", "-", stdin="nodes: [\n")
    assert code == 1 and "document/yaml-syntax" in out


@pytest.mark.parametrize("ref", ["a" * 5000, "a\u0000b", {"not": "a path"}])
def test_workflow_refs_the_os_refuses_are_issues_not_tracebacks(ref: object) -> None:
    doc = {
        "osop_version": "1.1",
        "id": "c",
        "name": "C",
        "imports": [ref],
        "nodes": [{"id": "a", "type": "cli", "name": "A", "workflow_ref": ref}],
    }
    code, out, _ = run("validate", "--format", "json", "-", stdin=json.dumps(doc))
    rules = {i["rule"] for i in json.loads(out)[0]["issues"]}
    assert code == 1 and "node/unresolved-workflow-ref" in rules


def test_malformed_records_and_collections_are_issues_not_tracebacks() -> None:
    record = (
        "osoplog_version: '1.0'\nrun_id: 0b8a5a4e-8f6f-4b8e-9c53-3a0a5e7d9a11\n"
        "workflow_id: w\nstatus: COMPLETED\nstarted_at: '2026-01-01T00:00:00Z'\n"
        "node_records:\n"
        "  - {node_id: a, node_type: cli, attempt: 1, status: COMPLETED, started_at: x}\n"
        "  - 1\n"
        "  - {node_id: a, node_type: cli, attempt: 1, status: COMPLETED, started_at: y}\n"
    )
    code, out, _ = run("validate", "--kind", "log", "--format", "json", "-", stdin=record)
    issues = json.loads(out)[0]["issues"]
    assert code == 1
    # Issues about the third entry point at it, past the malformed second one.
    duplicate = next(i for i in issues if i["rule"] == "log/duplicate-attempt")
    assert duplicate["pointer"] == "/node_records/2/attempt" and duplicate["line"] == 9
    stamps = sorted(i["pointer"] for i in issues if i["rule"] == "log/timestamp")
    assert stamps == ["/node_records/0/started_at", "/node_records/2/started_at"]
    collection = {
        "sop_version": "1.0",
        "id": "h",
        "name": "H",
        "sections": [{"name": "S", "workflows": [{"ref": "a" * 5000}]}],
    }
    code, out, _ = run(
        "validate", "--kind", "sop", "--format", "json", "-", stdin=json.dumps(collection)
    )
    assert "sop/missing-ref" in {i["rule"] for i in json.loads(out)[0]["issues"]}


def test_a_misspelt_required_key_is_named_in_the_hint() -> None:
    doc = {"osop_version": "1.1", "id": "c", "name": "C", "nodes": [{"id": "a", "tpye": "cli"}]}
    code, out, _ = run("validate", "--format", "json", "-", stdin=json.dumps(doc))
    issue = next(i for i in json.loads(out)[0]["issues"] if i["rule"] == "schema/required")
    assert code == 1 and issue["hint"] == "is 'tpye' a misspelling of 'type'?"


def test_the_caret_counts_wide_characters_as_two_cells(tmp_path: Path) -> None:
    path = tmp_path / "cjk.osop.yaml"
    path.write_text(
        'osop_version: "1.1"\nid: t\nname: T\nnodes:\n  - {name: "部署服務", id: a, type: humna}\n',
        encoding="utf-8",
    )
    code, out, _ = run("validate", str(path))
    lines = out.splitlines()
    source, caret = lines[1], lines[2]
    assert code == 1 and source.endswith("type: humna}")
    # 4 wide characters: the caret sits 4 cells right of the character count.
    assert caret.index("^") == source.index("humna") + 4


def test_an_inline_workflow_issue_is_reported_once(tmp_path: Path) -> None:
    path = tmp_path / "h.sop"
    inline = {
        "osop_version": "1.1",
        "id": "inl",
        "name": "Inl",
        "nodes": [{"id": "a", "type": "humna", "name": "A"}],
    }
    collection = {"sop_version": "1.0", "id": "h", "name": "H", "sections": []}
    collection["sections"] = [{"name": "S", "workflows": [{"workflow": inline}]}]
    path.write_text(json.dumps(collection))
    code, out, _ = run("validate", "--format", "json", str(path))
    issues = json.loads(out)[0]["issues"]
    assert code == 1
    assert [i["rule"] for i in issues] == ["node/unknown-type"], issues


def test_usage_errors_exit_2() -> None:
    assert run("validate")[0] == 2
    code, _, err = run("validate", "no-such-file.osop")
    assert code == 2 and "no such file" in err
    assert run("validate", "--format", "xml", str(GOOD))[0] == 2


def test_log_against_workflow(tmp_path: Path) -> None:
    log = tmp_path / "run.osoplog.yaml"
    log.write_text(
        "osoplog_version: '1.0'\nrun_id: 0b8a5a4e-8f6f-4b8e-9c53-3a0a5e7d9a11\n"
        "workflow_id: deploy-web-service\nstatus: COMPLETED\nstarted_at: '2026-01-01T00:00:00Z'\n"
        "node_records:\n  - {node_id: build, node_type: docker, attempt: 1, status: COMPLETED,"
        " started_at: '2026-01-01T00:00:00Z'}\n"
        "  - {node_id: ghost, node_type: cli, attempt: 1, status: COMPLETED,"
        " started_at: '2026-01-01T00:00:01Z'}\n"
        "  - {node_id: test, node_type: cli, attempt: 1, status: COMPLETED,"
        " started_at: '2026-01-01T00:00:02Z'}\n"
    )
    assert run("validate", str(log))[0] == 0
    code, out, _ = run("validate", "--workflow", str(GOOD), str(log))
    assert code == 1
    assert "log/unknown-node" in out and "log/node-type-mismatch" in out


def test_invalid_workflow_option_is_a_clean_error(tmp_path: Path) -> None:
    code, _, err = run("validate", "--workflow", str(BAD), str(GOOD))
    assert code == 1 and err.startswith("Error: ") and "Traceback" not in err


def test_workflow_option_that_is_missing_or_a_record(tmp_path: Path) -> None:
    log = CASES / "log-timeout-alias.osoplog.yaml"
    code, _, err = run("validate", "--workflow", str(tmp_path / "nope.osop.yaml"), str(log))
    assert code == 2 and "does not exist" in err
    code, _, err = run("validate", "--workflow", str(log), str(log))
    assert code == 1
    assert "document/wrong-kind: this is a run record (.osoplog), not a workflow" in err


def test_stdin_twice_is_a_usage_error() -> None:
    code, _, err = run("validate", "-", "-", stdin=GOOD.read_text())
    assert code == 2 and "only once" in err


def test_nothing_to_migrate_in_an_empty_folder_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = run("migrate", str(tmp_path))
    assert code == 2 and "no OSOP documents" in err


@pytest.mark.parametrize("name", ["osop", "osoplog", "sop"])
def test_schema_command(name: str) -> None:
    code, out, _ = run("schema", name)
    assert code == 0
    assert json.loads(out)["$schema"].startswith("https://json-schema.org/draft/2020-12")


def test_migrate_rewrites_legacy_forms_keeping_comments(tmp_path: Path) -> None:
    path = tmp_path / "legacy.osop.yaml"
    path.write_text(
        "# team notes stay\n"
        'osop: "1.0.0"\n'
        'name: "Retry Loop"\n'
        "nodes:\n"
        "  - id: fetch  # inline comment stays\n"
        "    type: api\n"
        '    purpose: "Fetch the data"\n'
        "  - id: done\n"
        "    type: cli\n"
        "    name: Done\n"
        "edges:\n"
        "  - from: fetch\n"
        "    to: done\n"
        "    mode: conditional\n"
        '    condition: "ok == true AND tries < 3"\n'
    )
    code, out, _ = run("migrate", "--check", str(path))
    assert code == 1 and "would change" in out
    assert "condition:" in path.read_text()  # --check writes nothing
    code, out, _ = run("migrate", str(path))
    assert code == 0
    text = path.read_text()
    assert "# team notes stay" in text and "# inline comment stays" in text
    assert "osop_version:" in text and "condition:" not in text
    assert 'when: "ok == true && tries < 3"' in text
    assert "name: Fetch the data" in text and "id: retry-loop" in text
    # Migrated: no legacy warnings left, and a second run changes nothing.
    code, out, _ = run("validate", "--format", "json", str(path))
    rules = {i["rule"] for i in json.loads(out)[0]["issues"]}
    assert not rules & {
        "edge/deprecated-condition",
        "cel/legacy-operator",
        "workflow/legacy-version-key",
        "node/missing-name",
        "workflow/missing-id",
    }
    assert run("migrate", "--check", str(path))[0] == 0


_LEGACY_EDGES = (
    'osop_version: "1.1"\n'
    "id: flow\n"
    "name: Flow\n"
    "nodes:\n"
    "  - {id: a, type: cli, name: A}\n"
    "  - {id: b, type: cli, name: B}\n"
    "edges:\n"
    "  - from: a\n"
    "    to: b\n"
    "    mode: conditional\n"
    "    condition: x == 1  # trailing note\n"
    "\n"
    "  # The other branch\n"
    "  - from: a\n"
    "    to: b\n"
    "    mode: conditional\n"
    "    condition: x == 2\n"
)


def test_migrate_keeps_comments_after_a_renamed_key(tmp_path: Path) -> None:
    path = tmp_path / "flow.osop.yaml"
    path.write_text(_LEGACY_EDGES)
    assert run("migrate", str(path))[0] == 0
    text = path.read_text()
    assert "# trailing note" in text and "# The other branch" in text
    assert "when: x == 2" in text and "condition:" not in text


def test_migrate_changes_only_the_legacy_lines(tmp_path: Path) -> None:
    path = tmp_path / "flow.osop.yaml"
    original = _LEGACY_EDGES.replace(
        "  - {id: a, type: cli, name: A}\n",
        "  - { id: a, type: cli, name: A, outputs: { x: { type: number } } }\n",
    )
    path.write_text(original)
    assert run("migrate", str(path))[0] == 0
    before, after = original.splitlines(), path.read_text().splitlines()
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert [a for a, _ in changed] == [
        "    condition: x == 1  # trailing note",
        "    condition: x == 2",
    ]
    assert all(b.startswith("    when: x == ") for _, b in changed)


def test_migrate_keeps_crlf_line_endings_and_a_bom(tmp_path: Path) -> None:
    path = tmp_path / "flow.osop.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + _LEGACY_EDGES.replace("\n", "\r\n").encode())
    assert run("migrate", str(path))[0] == 0
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfosop_version:")
    assert raw.count(b"\n") == raw.count(b"\r\n") > 10
    assert b"when: x == 1" in raw and b"# The other branch" in raw
    assert run("migrate", "--check", str(path))[0] == 0


def test_migrate_json_with_a_bom_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "flow.osop.json"
    doc = {"osop": "1.0", "id": "js", "name": "J", "nodes": [{"id": "a", "type": "cli"}]}
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(doc).encode() + b"\r\n")
    code, _, err = run("migrate", str(path))
    assert code == 0, err
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf{") and raw.count(b"\n") == raw.count(b"\r\n")
    assert json.loads(raw.decode("utf-8-sig"))["osop_version"] == "1.0"
    assert run("migrate", "--check", str(path))[0] == 0


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("a.osop.yaml", "osop: 1\nname: 5\nnodes: 5\nedges: 7\n"),
        ("b.osop.yaml", "name: X\nnodes: [{id: a, type: cli, purpose: '   '}]\n"),
        ("c.osoplog.yaml", "osoplog_version: '1.0'\nstatus: [1]\nnode_records: 3\n"),
        ("d.osoplog.yaml", "osoplog_version: '1.0'\nnode_records: [{status: {a: 1}}]\n"),
    ],
)
def test_migrate_malformed_shapes_is_never_a_traceback(
    tmp_path: Path, name: str, text: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    result = CliRunner().invoke(cli, ["migrate", str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    # A status that is not a string is left for the validator to report, not mangled.
    assert "[1] → [1]" not in result.output and "'A'" not in path.read_text()


def test_migrate_through_a_symlink_rewrites_its_target(tmp_path: Path) -> None:
    target = tmp_path / "real.osop.yaml"
    target.write_text(_LEGACY_EDGES)
    link = tmp_path / "link.osop.yaml"
    link.symlink_to(target)
    assert run("migrate", str(link))[0] == 0
    assert link.is_symlink() and "condition:" not in target.read_text()


def test_migrate_leaves_current_files_byte_identical(tmp_path: Path) -> None:
    path = tmp_path / "current.osop.yaml"
    path.write_bytes(GOOD.read_bytes())
    assert run("migrate", str(path))[0] == 0
    assert path.read_bytes() == GOOD.read_bytes()


def test_python_dash_m_and_version() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "osop", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.startswith("osop, version ")


def test_every_command_has_help() -> None:
    from osop.cli.main import COMMANDS

    for name in COMMANDS:
        code, out, _ = run(name, "--help")
        assert code == 0, name
        assert "Usage: " in out
