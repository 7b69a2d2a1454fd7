"""What is not CEL gets an error with a hint; suspicious CEL gets a warning."""

from __future__ import annotations

import pytest

from osop.errors import ExpressionError
from osop.expr import compile_expression, lint_expression


def errors(source: str) -> list[tuple[str, str | None]]:
    return [(p.message, p.hint) for p in lint_expression(source) if p.is_error]


def warnings(source: str) -> list[tuple[str, str | None]]:
    return [(p.message, p.hint) for p in lint_expression(source) if not p.is_error]


@pytest.mark.parametrize(
    ("source", "hint_part"),
    [
        ("a AND b", "use && instead of AND"),
        ("a OR b", "use || instead of OR"),
        ("NOT a", "use ! instead of NOT"),
        ("a and b", "use && instead of and"),
        ("a or b", "use || instead of or"),
        ("not a", "use ! instead of not"),
        ("x not in items", "!(x in list)"),
        ("a = 1", "use =="),
        ("a <> 1", "use !="),
        ("a === 1", "use =="),
        ("a & b", "use &&"),
        ("a | b", "use ||"),
        ("x == True", "use true instead of True"),
        ("x == False", "use false instead of False"),
        ("x == None", "use null instead of None"),
        ("x is None", "x == null"),
        ("${inputs.env} == 'prod'", "drop the ${ and }"),
        ("$x == 1", "write inputs.x"),
        ("'abc", "close it with '"),
        ('x == "abc', 'close it with "'),
        ("(a && b", "add the matching ')'"),
        ("a && b)", "add the matching '('"),
        ("[1, 2", "add the matching ']'"),
        ("   ", "write a condition such as"),
        ("", "write a condition such as"),
        ("Community-acquired pneumonia", "put descriptions in label"),
        ("ready set", "put descriptions in label"),
        ("x == 1 y", "join conditions with && or ||"),
        ("for == 1", "outputs.<node>.for"),
    ],
)
def test_non_cel_has_an_error_with_a_hint(source: str, hint_part: str) -> None:
    found = errors(source)
    assert found, f"no error for {source!r}"
    assert hint_part in (found[0][1] or "")


@pytest.mark.parametrize(
    "source",
    [
        "status == 'failed' AND retry_count < 3",
        "confidence < 0.85 or status != 'success'",
        "x = 1",
        "True",
        "${x}",
        "'open",
        "",
        "(a",
    ],
)
def test_compile_raises_the_first_error_with_its_hint(source: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(source)
    assert caught.value.hint == errors(source)[0][1]
    assert caught.value.expression == source


@pytest.mark.parametrize(
    "source",
    [
        "decision == 'approved'",
        "outputs.test.passed == true && inputs.environment != 'production'",
        "severity in ['P1', 'P2']",
        "a.and == b.or",  # fields may be named like Python operators
        "'x AND y = z' == s",  # so may the inside of strings
        "items.exists(x, x.True)",
        "x.is == 1",
        "has(outputs.a.b) ? 1 : 2",
        "loop.index < 3",
        "outputs.x.for == 1",  # reserved words are fine as fields
        "{'a': 1}",
        "f(x)[0]",
        "T{a: 1}",
    ],
)
def test_valid_cel_has_no_errors(source: str) -> None:
    assert errors(source) == []


def test_valid_cel_that_is_almost_certainly_wrong_gets_warnings() -> None:
    (length,) = warnings("items.length == 0")
    assert ".size()" in (length[1] or "")
    (hyphen,) = warnings("outputs.unit-tests.passed")
    assert "outputs['unit-tests']" in (hyphen[1] or "")
    (never,) = warnings("status('build') == 'finished'")
    assert "never returns 'finished'" in never[0]


def test_problems_carry_offsets() -> None:
    (problem,) = lint_expression("x == 1 AND y == 2")
    assert problem.offset == 7


def test_one_mistake_gives_one_error() -> None:
    assert len(errors("a AND b")) == 1
    assert len(errors("Community-acquired pneumonia")) == 1


def test_syntax_errors_the_linter_does_not_know_still_fail_cleanly() -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression("a == ")
    assert "syntax error at column" in caught.value.message
    with pytest.raises(ExpressionError) as caught:
        compile_expression("has(x)")
    assert "has()" in caught.value.message


def test_syntax_error_column_refers_to_what_the_user_wrote() -> None:
    # Status rewriting lengthens 'ok' to "COMPLETED"; the column must not move.
    source = "status('a') == 'ok' && (1 +)"
    with pytest.raises(ExpressionError) as caught:
        compile_expression(source)
    assert f"column {len(source)}:" in caught.value.message


def test_multiline_syntax_error_reports_line_and_column() -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression("a == 1 &&\n  b == * 2")
    assert "line 2, column 8" in caught.value.message


def test_lint_errors_say_where_they_are() -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression("x == 1 AND y")
    assert caught.value.message == "'AND' is not a CEL operator (column 8)"
    with pytest.raises(ExpressionError) as caught:
        compile_expression("a == 1 &&\n  b = 2")
    assert caught.value.message.endswith("(line 2, column 5)")


def test_legacy_word_operators_are_accepted_only_on_request() -> None:
    source = "status == 'failed' AND retry_count < 3 or not done"
    with pytest.raises(ExpressionError, match="'AND' is not a CEL operator"):
        compile_expression(source)
    expression = compile_expression(source, legacy=True)
    assert expression.source == "status == 'failed' && retry_count < 3 || ! done"
    assert compile_expression(source, legacy=True) is expression
    state = {"status": "failed", "retry_count": 1, "done": True}
    assert expression.evaluate(state) is True


def test_legacy_mode_still_rejects_what_is_not_cel() -> None:
    with pytest.raises(ExpressionError, match="use =="):
        compile_expression("a = 1 AND b", legacy=True)


def test_deep_nesting_is_a_clean_error() -> None:
    with pytest.raises(ExpressionError, match="nested too deeply"):
        compile_expression("(" * 300 + "1" + ")" * 300)
