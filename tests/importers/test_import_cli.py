"""`osop import`: files, the run store, and the errors a user can make."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from osop.cli.main import cli

FIXTURES = Path(__file__).parent / "fixtures" / "claude-code"


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_import_to_a_folder(tmp_path: Path) -> None:
    code, out, err = _run("import", "claude-code", str(FIXTURES), "-o", str(tmp_path))
    assert code == 0, err
    names = sorted(p.name for p in tmp_path.iterdir())
    assert "0d9e3c4a-58f1-4b8e-9d2c-6b1f7a2e4c11.osoplog.json" in names
    assert "3c1b9f2e-7d4a-4e8b-a1c6-9e0f5d2b8a44.agent-a1b2c3d4.osoplog.json" in names
    assert "warning: streamed-retry.jsonl: skipped lines of unknown types" in err
    assert err.count("unknown types") == 1
    code, out, _ = _run("validate", *(str(p) for p in tmp_path.iterdir()))
    assert code == 0, out


def test_import_into_the_store_then_runs_status_report(tmp_path: Path) -> None:
    store = tmp_path / "store"
    code, out, err = _run(
        "import", "claude-code", str(FIXTURES), "--store", "--store-dir", str(store), "--json"
    )
    assert code == 0, err
    rows = json.loads(out)
    assert len(rows) == 4
    code, out, _ = _run("runs", "--store", str(store))
    assert code == 0
    assert "0d9e3c4a" in out and "62cc7739" not in out  # child runs only with --all
    code, out, _ = _run("runs", "--store", str(store), "--all")
    assert len(out.strip().splitlines()) == 1 + 7  # the header, then one row per run
    code, out, _ = _run("status", "0d9e3c4a", "--store", str(store))
    assert code == 0 and "imported claude-code session" in out
    code, out, _ = _run("report", "0d9e3c4a", "--store", str(store), "--format", "text")
    assert code == 0 and "turn_1_3_run" in out
    code, out, err = _run("resume", "0d9e3c4a", "--store", str(store))
    assert code == 1 and "imported record" in err
    # importing again replaces the earlier import
    code, _, err = _run(
        "import", "claude-code", str(FIXTURES), "--store", "--store-dir", str(store)
    )
    assert code == 0, err


def test_usage_errors(tmp_path: Path) -> None:
    code, _, err = _run("import", "claude-code", str(FIXTURES))
    assert code == 2 and "-o DIR and/or --store" in err
    code, _, err = _run("import", "claude-code", str(tmp_path / "nope"), "-o", str(tmp_path))
    assert code == 1 and "no such file or folder" in err and "Traceback" not in err
    code, _, err = _run("import", "aider", str(FIXTURES), "-o", str(tmp_path))
    assert code == 1 and "no importer for 'aider'" in err
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = _run("import", "claude-code", str(empty), "-o", str(tmp_path))
    assert code == 1 and "no sessions found" in err
