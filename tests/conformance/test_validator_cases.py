"""The validator's conformance suite: every document in validator/ states what it expects.

A case is a small document whose leading comments say what the validator must
report: ``# expect-valid`` (no error), ``# expect-error: RULE``,
``# expect-warning: RULE``.  Adding a case is adding a file.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from osop.format.validate import validate_path

CASES = Path(__file__).parent / "validator"
_EXPECT = re.compile(r"^#\s*expect-(valid|error|warning|info)(?::\s*(\S+))?\s*$", re.M)


def _cases() -> list[Path]:
    return sorted(p for p in CASES.iterdir() if p.is_file() and _EXPECT.search(p.read_text()))


@pytest.mark.parametrize("path", _cases(), ids=lambda p: p.name)
def test_case(path: Path) -> None:
    expectations = _EXPECT.findall(path.read_text())
    report = validate_path(path)
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
