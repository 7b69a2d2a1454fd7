"""Every command maps every YAML/JSON parse failure to an error with a rule id.

A document that cannot be parsed — too deep (PyYAML ≥ 6.0.4 refuses that in its own
scanner, before our check sees it), a syntax error, bytes that are not UTF-8 — must
give ``Error: …`` or a diagnostic naming the rule, a non-zero exit code and no
traceback, whichever command reads it and whatever kind of document it is.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from osop.cli.main import cli
from osop.errors import OsopError

DEEP = 5_000

#: name → document content (bytes), each a parse failure with a known rule.
BROKEN: dict[str, tuple[bytes, str]] = {
    "deep-flow": (("a: " + "[" * DEEP + "]" * DEEP).encode(), "document/too-deep"),
    "deep-block": (("- " * DEEP + "x").encode(), "document/too-deep"),
    "yaml-syntax": (b"osop_version: '1.0'\nnodes: [1, 2\nedges: }\n", "document/yaml-syntax"),
    "tab-indent": (b"osop_version: '1.0'\nnodes:\n\t- id: a\n", "document/yaml-syntax"),
    "not-utf8": (b"osop_version: '1.0'\nname: \xff\xfe\n", "document/"),
}
BROKEN_JSON: dict[str, tuple[bytes, str]] = {
    "deep-json": (('{"a":' * DEEP + "1" + "}" * DEEP).encode(), "document/too-deep"),
    "json-syntax": (b'{"osop_version": "1.0", "nodes": [}', "document/json-syntax"),
}

WORKFLOW_COMMANDS: dict[str, list[str]] = {
    "validate": ["validate", "{f}"],
    "run": ["run", "{f}", "--mode", "simulated", "--store", "{store}"],
    "render": ["render", "{f}", "--format", "mermaid"],
    "migrate": ["migrate", "--check", "{f}"],
    "diff-workflows": ["diff", "{f}", "{f}"],
}
RECORD_COMMANDS: dict[str, list[str]] = {
    "validate": ["validate", "{f}"],
    "stats": ["stats", "{f}"],
    "report": ["report", "{f}", "--format", "text"],
    "diff-records": ["diff", "{f}", "{f}"],
    "synthesize": ["synthesize", "{f}", "-o", "{out}"],
    "export": ["export", "{f}", "--to", "xes", "-o", "{out}"],
}


def _cases() -> list[tuple[str, str, list[str], bytes, str]]:
    cases = []
    for kind, suffixes, commands in (
        ("workflow", (".osop.yaml", ".osop.json"), WORKFLOW_COMMANDS),
        ("record", (".osoplog.yaml", ".osoplog.json"), RECORD_COMMANDS),
    ):
        for suffix in suffixes:
            documents = BROKEN_JSON if suffix.endswith(".json") else BROKEN
            for doc_name, (content, rule) in documents.items():
                for command_name, argv in commands.items():
                    case_id = f"{command_name}-{kind}-{doc_name}{suffix}"
                    cases.append((case_id, suffix, argv, content, rule))
    return cases


CASES = _cases()


@pytest.mark.parametrize(("suffix", "argv", "content", "rule"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_every_command_reports_parse_errors_with_a_rule(
    tmp_path: Path, suffix: str, argv: list[str], content: bytes, rule: str
) -> None:
    path = tmp_path / f"broken{suffix}"
    path.write_bytes(content)
    out = tmp_path / "out.file"
    args = [a.format(f=path, store=tmp_path / "store", out=out) for a in argv]
    result = CliRunner().invoke(cli, args)
    output = result.stdout + result.stderr
    # Anything but SystemExit escaping the command would be a traceback for the user.
    assert result.exception is None or isinstance(result.exception, SystemExit), output
    assert result.exit_code in (1, 2), (result.exit_code, output[-2000:])
    assert rule in output, output[-2000:]
    assert not out.exists()


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_mcp_tools_turn_parse_errors_into_library_errors(tmp_path: Path, name: str) -> None:
    """The MCP tools raise the library's error (the server makes it a tool error)."""
    from osop.mcp.server import OsopTools

    content, rule = BROKEN[name]
    workflow = tmp_path / "broken.osop.yaml"
    workflow.write_bytes(content)
    record = tmp_path / "broken.osoplog.yaml"
    record.write_bytes(content)
    tools = OsopTools(tmp_path / "store", tmp_path)
    report = tools.validate(str(workflow))
    assert not report["valid"] and report["issues"][0]["rule"].startswith(rule)
    for call in (
        lambda: tools.render(str(workflow)),
        lambda: tools.stats([str(record)]),
        lambda: tools.diff(str(record), str(record)),
    ):
        with pytest.raises(OsopError) as info:
            call()
        assert rule in f"{info.value} {getattr(info.value, 'rule', '')}"
