"""The validator's conformance suite: every document in validator/ states what it expects.

A case is a small document whose leading comments say what the validator must
report: ``# expect-valid`` (no error), ``# expect-error: RULE``,
``# expect-warning: RULE``; ``# with-workflow: PATH`` checks a record against a
workflow (``osop validate --workflow``).  Adding a case is adding a file.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from osop.format.api import load_workflow
from osop.format.validate import validate_path

CASES = Path(__file__).parent / "validator"
_EXPECT = re.compile(r"^#\s*expect-(valid|error|warning|info)(?::\s*(\S+))?\s*$", re.M)
_WITH_WORKFLOW = re.compile(r"^#\s*with-workflow:\s*(\S+)\s*$", re.M)


def _cases() -> list[Path]:
    return sorted(p for p in CASES.iterdir() if p.is_file() and _EXPECT.search(p.read_text()))


@pytest.mark.parametrize("path", _cases(), ids=lambda p: p.name)
def test_case(path: Path) -> None:
    expectations = _EXPECT.findall(path.read_text())
    with_workflow = _WITH_WORKFLOW.search(path.read_text())
    workflow = load_workflow(CASES / with_workflow.group(1)) if with_workflow else None
    report = validate_path(path, workflow=workflow)
    found = {(i.severity, i.rule) for i in report.issues}
    for severity, rule in expectations:
        if severity == "valid":
            assert report.valid, [i.format(path.name) for i in report.errors]
        else:
            assert (severity, rule) in found, f"expected {severity} {rule}; got " + "; ".join(
                i.format(path.name) for i in report.issues
            )
            if severity == "error":
                assert not report.valid
    # Every reported issue is located in the source.
    for issue in report.issues:
        if issue.rule.startswith("document/") and issue.line is None:
            continue
        assert issue.line is not None, issue


def test_every_rule_family_is_covered() -> None:
    rules = {m[1] for p in _cases() for m in _EXPECT.findall(p.read_text()) if m[1]}
    for family in (
        "node/",
        "edge/",
        "graph/",
        "ref/",
        "cel/",
        "workflow/",
        "schema/",
        "log/",
        "sop/",
    ):
        assert any(r.startswith(family) for r in rules), family


_DOCS = Path(__file__).resolve().parents[2] / "docs" / "validation.md"
_PACKAGE = Path(__file__).resolve().parents[2] / "osop"
#: Where the validator's rules live (records normalise themselves in osop/record/model.py).
_RULE_SOURCES = ("format", "record/model.py")
_RULE = r"(?:document|workflow|node|edge|graph|ref|cel|log|sop|contract|port|security|limits)/[a-z0-9-]+"
#: Rules about raw bytes or files, tested in tests/unit/test_loader.py and the CLI tests.
_TESTED_ELSEWHERE = {
    "document/too-large",
    "document/not-text",
    "document/not-utf8",
    "document/json-syntax",
    "document/unreadable",
    "document/wrong-kind",
    "document/bad-string",  # JSON only (YAML refuses lone surrogates as syntax)
    "workflow/import-too-deep",  # a chain of 17 files: tests/unit/test_limits.py
}


def test_the_rule_table_the_code_and_the_cases_agree() -> None:
    documented = set(re.findall(rf"`({_RULE})`", _DOCS.read_text()))
    sources = [_PACKAGE / s for s in _RULE_SOURCES]
    files = [f for s in sources for f in (sorted(s.rglob("*.py")) if s.is_dir() else [s])]
    in_code = {rule for path in files for rule in re.findall(rf'"({_RULE})"', path.read_text())}
    with_case = {m[1] for p in _cases() for m in _EXPECT.findall(p.read_text()) if m[1]}
    assert in_code - documented == set(), "rules missing from docs/validation.md"
    assert documented - in_code == set(), "documented rules the validator never reports"
    assert documented - with_case - _TESTED_ELSEWHERE == set(), "rules without a case"
