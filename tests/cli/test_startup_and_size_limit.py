"""Start-up stays lean (optional stacks imported only by the commands that need them),
and every command that reads workflows or .sop files takes --max-bytes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from osop import __version__
from osop.cli.main import cli, main
from osop.errors import LoadError
from osop.format.loader import DEFAULT_MAX_BYTES, load_document, size_limit

SMALL = """\
osop_version: "1.1"
id: small
name: Small
nodes:
  - id: build
    type: cli
    name: Build
    runtime: {command: "make build"}
    outputs: {ok: {type: boolean}}
  - id: test
    type: cli
    name: Test
    runtime: {command: "make test"}
edges:
  - {from: build, to: test, mode: conditional, when: "ok == true"}
"""

HEAVY = ("click", "cel.cli", "typer", "prompt_toolkit", "rich", "jsonschema", "httpx", "mcp")


def _probe(code: str, *args: str) -> str:
    """Run ``code`` in a fresh interpreter on this tree; its stdout + stderr."""
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    return done.stdout + done.stderr


def _modules_after(argv: list[str]) -> set[str]:
    probe = (
        "import sys, json\n"
        "from osop.cli.main import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "sys.stderr.write(json.dumps(sorted(sys.modules)))\n"
    )
    return set(json.loads(_probe(probe).strip().splitlines()[-1]))


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_version_is_answered_without_the_command_framework() -> None:
    assert _heavy(_modules_after(["--version"])) == []


def test_version_text_matches_the_click_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    fast = capsys.readouterr().out
    assert fast == f"osop, version {__version__}\n"
    assert CliRunner().invoke(cli, ["--version"]).output == fast
    assert CliRunner().invoke(cli, ["-V"]).output == fast


def test_validating_a_small_file_loads_no_optional_stack(tmp_path: Path) -> None:
    small = tmp_path / "small.osop.yaml"
    small.write_text(SMALL)
    loaded = _modules_after(["validate", str(small)])
    assert "osop.format.validate" in loaded  # the probe did validate
    assert [m for m in _heavy(loaded) if m != "click" and not m.startswith("click.")] == []


#: the command framework and what only other commands (or options) use
NOT_FOR_PLAIN_VALIDATE = ("click", "osop.cli.app", "osop.cli.common", "osop.format.api", "glob")


def test_the_plain_validate_imports_no_command_framework(tmp_path: Path) -> None:
    small = tmp_path / "small.osop.yaml"
    small.write_text(SMALL)
    loaded = _modules_after(["validate", str(small)])
    assert "osop.format.validate" in loaded  # the probe did validate
    assert sorted(m for m in loaded if m.split(".")[0] == "click") == []
    assert sorted(set(NOT_FOR_PLAIN_VALIDATE) & loaded) == []


#: what validating a workflow has no use for: the record and .sop models, the SQL
#: classifier, secret handling, and importlib.resources (tempfile, zipfile, ...)
NOT_FOR_A_WORKFLOW = (
    "osop.record.model",
    "osop.format.sop",
    "osop.format.rules.log_rules",
    "osop.format.rules.sop_rules",
    "osop.security.sql",
    "osop.security.secrets",
    "importlib.resources",
    "tempfile",
    "tree_sitter_bash",  # its package __init__; the grammar (_binding) is all we load
)


def test_validating_a_workflow_loads_only_what_a_workflow_needs(tmp_path: Path) -> None:
    small = tmp_path / "small.osop.yaml"
    small.write_text(SMALL)
    loaded = _modules_after(["validate", str(small)])
    assert "osop.security.shell" in loaded  # its commands were classified
    assert sorted(set(NOT_FOR_A_WORKFLOW) & loaded) == []


def test_a_workflow_without_commands_loads_no_shell_parser(tmp_path: Path) -> None:
    plain = tmp_path / "plain.osop.yaml"
    plain.write_text(
        'osop_version: "1.1"\nid: plain\nname: Plain\n'
        "nodes:\n  - {id: ask, type: human, name: Ask}\n"
    )
    loaded = _modules_after(["validate", str(plain)])
    assert "osop.format.validate" in loaded
    assert not {m for m in loaded if m.startswith(("tree_sitter", "osop.security.commands"))}


def test_the_collector_is_on_when_the_command_runs(tmp_path: Path) -> None:
    small = tmp_path / "small.osop.yaml"
    small.write_text(SMALL)
    probe = (
        "import gc, sys\n"
        "import osop.format.validate as v\n"
        "real = v.validate_path\n"
        "def spy(*a, **k):\n"
        "    print('collector during the command:', gc.isenabled())\n"
        "    return real(*a, **k)\n"
        "v.validate_path = spy\n"
        "from osop.cli.main import main\n"
        "try:\n"
        "    main(['validate', sys.argv[1]])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('collector after:', gc.isenabled())\n"
    )
    out = _probe(probe, str(small))
    assert "collector during the command: True" in out
    assert "collector after: True" in out


def _collector_during_validation(small: Path, call: str, *options: str) -> str:
    probe = (
        "import gc, sys\n"
        "import osop.format.validate as v\n"
        "real = v.validate_path\n"
        "def spy(*a, **k):\n"
        "    print('enabled', gc.isenabled(), 'frozen', gc.get_freeze_count() > 0)\n"
        "    return real(*a, **k)\n"
        "v.validate_path = spy\n"
        "from osop.cli.main import main\n"
        f"sys.argv = ['osop', 'validate', *{list(options)!r}, {str(small)!r}]\n"
        "try:\n"
        f"    {call}\n"
        "except SystemExit:\n"
        "    pass\n"
    )
    return _probe(probe).splitlines()[0]


def test_the_command_process_freezes_what_it_imported(tmp_path: Path) -> None:
    small = tmp_path / "small.osop.yaml"
    small.write_text(SMALL)
    # The command line (argv from the process): the collector runs, skipping the
    # modules and objects start-up made.
    assert _collector_during_validation(small, "main()") == "enabled True frozen True"
    frozen = _collector_during_validation(small, "main()", "--strict")  # through click
    assert frozen == "enabled True frozen True"
    # A caller in its own process (a test, a tool): nothing of its is frozen.
    called = _collector_during_validation(small, f"main(['validate', {str(small)!r}])")
    assert called == "enabled True frozen False"


def test_a_caller_that_turned_the_collector_off_keeps_it_off(tmp_path: Path) -> None:
    import gc

    small = tmp_path / "small.osop.yaml"
    small.write_text(SMALL)
    gc.disable()
    try:
        with pytest.raises(SystemExit):
            main(["validate", str(small)])
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_tree_sitter_bash_imported_later_is_whole() -> None:
    code = (
        "import osop.security.shell, tree_sitter_bash\n"
        "from tree_sitter import Language\n"
        "assert Language(tree_sitter_bash.language()) is not None\n"
        "assert tree_sitter_bash.HIGHLIGHTS_QUERY\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_every_security_name_resolves() -> None:
    import osop.security
    import osop.security.redact  # the module named like the function: still the function

    assert callable(osop.security.redact)
    assert osop.security.redact("a secret", ["secret"]) == "a ***"
    for name in osop.security.__all__:
        assert getattr(osop.security, name) is not None, name
    with pytest.raises(AttributeError):
        osop.security.no_such_name  # noqa: B018


def test_an_invalid_file_still_gets_schema_diagnostics(tmp_path: Path) -> None:
    bad = tmp_path / "bad.osop.yaml"
    bad.write_text(SMALL.replace("type: cli\n    name: Test", "type: clii\n    name: Test"))
    result = CliRunner().invoke(cli, ["validate", str(bad)])
    assert result.exit_code == 1
    assert "node/unknown-type" in result.output


def test_cel_package_imported_later_is_whole() -> None:
    code = (
        "import osop.expr, cel, cel.stdlib\n"
        "assert cel.compile('1 + 1').execute({}) == 2\n"
        "assert cel.Context is sys.modules['cel.cel'].Context\n"
        "assert cel.stdlib.STDLIB_FUNCTIONS is sys.modules['cel.stdlib'].STDLIB_FUNCTIONS\n"
        "assert cel.cli.app is not None\n"
    )
    subprocess.run([sys.executable, "-c", "import sys\n" + code], check=True)


def test_the_size_error_says_how_to_raise_the_limit() -> None:
    with pytest.raises(LoadError) as caught:
        load_document(SMALL, "small.osop.yaml", max_bytes=100)
    message = str(caught.value)
    assert "over the 100-byte limit" in message
    assert "--max-bytes 100000" in message and "max_bytes=" in message


def test_size_limit_applies_to_loads_that_use_the_default() -> None:
    text = "x: " + "a" * DEFAULT_MAX_BYTES + "\nosop_version: '1.1'\n"
    with pytest.raises(LoadError, match="byte limit"):
        load_document(text, "big.osop.yaml")
    with size_limit(2 * DEFAULT_MAX_BYTES):
        assert load_document(text, "big.osop.yaml").data["x"].startswith("a")
    with size_limit(10), pytest.raises(LoadError):
        load_document(SMALL, "small.osop.yaml")
    # an explicit limit is the caller's own
    with size_limit(10):
        assert load_document(SMALL, "small.osop.yaml", max_bytes=None).data["id"] == "small"


@pytest.mark.parametrize(
    "command",
    [
        ["run", "--mode", "dry_run"],
        ["render"],
        ["report"],
        ["migrate", "--check"],
        ["validate"],
    ],
    ids=lambda c: c[0],
)
def test_document_commands_take_max_bytes(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    small = tmp_path / "small.osop.yaml"
    small.write_text(SMALL)
    refused = CliRunner().invoke(cli, [*command, str(small), "--max-bytes", "100"])
    assert refused.exit_code in (1, 2), refused.output
    assert "over the 100-byte limit" in refused.output
    assert "--max-bytes" in refused.output
    assert "Traceback" not in refused.output
    allowed = CliRunner().invoke(cli, [*command, str(small), "--max-bytes", "100000"])
    assert "over the" not in allowed.output, allowed.output


def test_the_limit_does_not_outlive_the_command(tmp_path: Path) -> None:
    small = tmp_path / "small.osop.yaml"
    small.write_text(SMALL)
    CliRunner().invoke(cli, ["render", str(small), "--max-bytes", "100"])
    assert load_document(SMALL, "small.osop.yaml").data["id"] == "small"


@pytest.mark.parametrize("command", ["stats", "export"])
def test_commands_that_read_records_do_not_import_the_engine(command: str, tmp_path: Path) -> None:
    # A records folder given by path needs no run store, so nothing of the engine.
    record = (
        Path(__file__).resolve().parents[1] / "conformance/validator/log-timeout-alias.osoplog.yaml"
    )
    argv = [command, str(record)]
    if command == "export":
        argv += ["--to", "xes", "-o", str(tmp_path / "out.xes")]
    loaded = _modules_after(argv)
    assert "osop.analysis.selection" in loaded  # the probe did read the record
    assert sorted(m for m in loaded if m.startswith("osop.engine")) == []
