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
