"""status() spellings: literals compared with status(...) become canonical, nothing else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from osop.expr import NodeFacts, canonical_status, compile_expression, osop_functions


@pytest.mark.parametrize(
    ("spelling", "status"),
    [
        ("success", "COMPLETED"),
        ("Succeeded", "COMPLETED"),
        ("completed", "COMPLETED"),
        ("OK", "COMPLETED"),
        ("COMPLETED", "COMPLETED"),
        ("failed", "FAILED"),
        ("failure", "FAILED"),
        ("Error", "FAILED"),
        ("timeout", "TIMED_OUT"),
        ("timed_out", "TIMED_OUT"),
        ("TIMED_OUT", "TIMED_OUT"),
        ("skipped", "SKIPPED"),
        (" success ", "COMPLETED"),
        ("canceled", "CANCELLED"),
        ("Waiting", "WAITING"),
        ("finished", None),
        ("", None),
    ],
)
def test_canonical_status(spelling: str, status: str | None) -> None:
    assert canonical_status(spelling) == status


def functions(**statuses: str) -> dict[str, Callable[..., Any]]:
    facts = {node: NodeFacts(status) for node, status in statuses.items()}
    return osop_functions(facts.get, current=next(iter(statuses)))


@pytest.mark.parametrize(
    ("source", "rewritten"),
    [
        ("status('b') == 'success'", "status('b') == \"COMPLETED\""),
        ("status('b') != 'timeout'", "status('b') != \"TIMED_OUT\""),
        ("'failed' == status('b')", "\"FAILED\" == status('b')"),
        (
            "status('b') in ['success', 'skipped']",
            'status(\'b\') in ["COMPLETED", "SKIPPED"]',
        ),
        ("status() == 'ok'", 'status() == "COMPLETED"'),
        (
            "(status('a') == 'success') && status('b') == 'error'",
            "(status('a') == \"COMPLETED\") && status('b') == \"FAILED\"",
        ),
        ("x ? status('b') == 'success' : false", "x ? status('b') == \"COMPLETED\" : false"),
        ("status('b') == 'COMPLETED'", "status('b') == 'COMPLETED'"),
    ],
)
def test_literals_compared_with_status_are_rewritten(source: str, rewritten: str) -> None:
    assert compile_expression(source).cel_source == rewritten


@pytest.mark.parametrize(
    "source",
    [
        "result == 'success'",  # an output that happens to hold 'success'
        "status == 'success'",  # a bare output named status, not the function
        "outputs.check.status == 'timeout'",
        "x.status('b') == 'success'",  # somebody else's member function
        "status('b').lowerAscii() == 'success'",  # compared with something else
        "status('b') + 'x' == 'success'",
        "'success' + status('b') == 'x'",
        "status('b') == 'succ' + 'ess'",
        "a == 'success' == status('b')",
        "status('b') in ['success', other]",
        "status('success') == 'COMPLETED'",  # the argument is a node id
        "'success' in names",
        "[status('b'), 'success'].size() == 2",
    ],
)
def test_other_literals_are_never_rewritten(source: str) -> None:
    assert compile_expression(source).cel_source == source


@pytest.mark.parametrize(
    ("source", "status", "expected"),
    [
        ("status('b') == 'success'", "COMPLETED", True),
        ("status('b') == 'success'", "FAILED", False),
        ("status('b') == 'timeout'", "TIMED_OUT", True),
        ("status('b') != 'timeout'", "TIMED_OUT", False),
        ("status('b') in ['failed', 'timeout']", "TIMED_OUT", True),
        ("status('b') in ['failed', 'timeout']", "SKIPPED", False),
        ("'Skipped' == status('b')", "SKIPPED", True),
        ("status('b') == 'COMPLETED'", "COMPLETED", True),
        ("status('b') == 'completed'", "COMPLETED", True),
    ],
)
def test_spellings_match_record_statuses(source: str, status: str, expected: bool) -> None:
    assert compile_expression(source).evaluate({}, functions(b=status)) is expected


def test_bare_status_output_keeps_its_own_value() -> None:
    expression = compile_expression("status == 'success'")
    assert expression.evaluate({"status": "success"}) is True
    assert expression.evaluate({"status": "COMPLETED"}) is False
