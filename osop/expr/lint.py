"""Explain what is not CEL: ``AND`` → ``&&``, ``=`` → ``==``, ``True`` → ``true``...

:func:`lint_expression` is what the validator calls on every ``when``; the
compiler raises its first error-severity problem. Errors are reserved for text
that is not CEL (or is CEL only by accident, like ``True``); warnings point at
CEL that is valid but almost certainly not what the author meant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from osop.expr.lexer import CEL_ALIASES, RESERVED_WORDS, Token, tokenize
from osop.expr.status import NODE_STATUSES, find_status_literals

__all__ = ["ExpressionProblem", "lint_expression", "lint_tokens"]

ProblemSeverity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class ExpressionProblem:
    """One thing wrong with an expression, where it is, and how to fix it."""

    severity: ProblemSeverity
    message: str
    hint: str | None
    offset: int

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


# Word operators from SQL/Python and what CEL spells instead.
_WORD_OPERATORS = {"and": "&&", "or": "||", "not": "!"}
_PYTHON_CONSTANTS = {
    "True": "true",
    "False": "false",
    "None": "null",
    "TRUE": "true",
    "FALSE": "false",
    "NULL": "null",
    "nil": "null",
}
_SYMBOL_FIXES = {
    "=": ("'=' is not a CEL operator", "use == to compare"),
    "<>": ("'<>' is not a CEL operator", "use != for 'not equal'"),
    "===": ("'===' is not a CEL operator", "use =="),
    "!==": ("'!==' is not a CEL operator", "use !="),
    "&": ("'&' is not a CEL operator", "use && for 'and'"),
    "|": ("'|' is not a CEL operator", "use || for 'or'"),
}
_OPERAND_END_KINDS = frozenset({"ident", "number", "string", "bytes"})


def lint_expression(source: str) -> list[ExpressionProblem]:
    """Every problem found in ``source``, errors and warnings, in source order."""
    if not source.strip():
        return [
            ExpressionProblem(
                "error",
                "empty expression",
                "write a condition such as decision == 'approved', or drop the key "
                "for an unconditional edge",
                0,
            )
        ]
    return lint_tokens(tokenize(source))


def lint_tokens(tokens: list[Token] | tuple[Token, ...]) -> list[ExpressionProblem]:
    """:func:`lint_expression` on already tokenized text."""
    problems: list[ExpressionProblem] = []
    problems.extend(_lexical_problems(tokens))
    problems.extend(_bracket_problems(tokens))
    problems.extend(_word_problems(tokens))
    problems.extend(_status_problems(tokens))
    problems.extend(_hyphen_problems(tokens))
    problems.sort(key=lambda p: (p.offset, p.severity != "error"))
    return problems


def _lexical_problems(tokens: list[Token] | tuple[Token, ...]) -> list[ExpressionProblem]:
    problems: list[ExpressionProblem] = []
    for token in tokens:
        if token.kind == "error":
            if token.problem == "unterminated string":
                quote = token.text.lstrip("rRbB")[:1]
                problems.append(
                    ExpressionProblem(
                        "error",
                        "unterminated string",
                        f"close it with {quote}; inside a string, escape the quote as \\{quote}",
                        token.start,
                    )
                )
            elif token.text == "$":
                problems.append(
                    ExpressionProblem(
                        "error",
                        "'$' cannot appear in a CEL expression",
                        "conditions read names directly: write inputs.x, not $inputs.x",
                        token.start,
                    )
                )
            else:
                problems.append(
                    ExpressionProblem(
                        "error", token.problem, "CEL uses ASCII operators only", token.start
                    )
                )
        elif token.kind == "op" and token.text == "${":
            problems.append(
                ExpressionProblem(
                    "error",
                    "${...} interpolation cannot be used inside a CEL expression",
                    "drop the ${ and }: write inputs.env == 'prod', not ${inputs.env} == 'prod'",
                    token.start,
                )
            )
        elif token.kind == "op" and token.text in _SYMBOL_FIXES:
            message, hint = _SYMBOL_FIXES[token.text]
            problems.append(ExpressionProblem("error", message, hint, token.start))
    return problems


def _bracket_problems(tokens: list[Token] | tuple[Token, ...]) -> list[ExpressionProblem]:
    pairs = {"(": ")", "[": "]", "{": "}"}
    closers = {v: k for k, v in pairs.items()}
    stack: list[Token] = []
    problems: list[ExpressionProblem] = []
    for token in tokens:
        if token.kind != "op":
            continue
        if token.text in pairs:
            stack.append(token)
        elif token.text in closers:
            if stack and stack[-1].text == closers[token.text]:
                stack.pop()
            else:
                expected = f" (expected {pairs[stack[-1].text]!r})" if stack else ""
                problems.append(
                    ExpressionProblem(
                        "error",
                        f"unbalanced {token.text!r}{expected}",
                        f"remove it or add the matching {closers[token.text]!r}",
                        token.start,
                    )
                )
                return problems
    for token in stack:
        problems.append(
            ExpressionProblem(
                "error",
                f"{token.text!r} is never closed",
                f"add the matching {pairs[token.text]!r}",
                token.start,
            )
        )
    return problems


def _word_problems(tokens: list[Token] | tuple[Token, ...]) -> list[ExpressionProblem]:
    problems: list[ExpressionProblem] = []
    for index, token in enumerate(tokens):
        if token.kind != "ident" or _is_member(tokens, index):
            continue
        lower = token.text.lower()
        if lower in _WORD_OPERATORS and _used_as_operator(tokens, index):
            fix = _WORD_OPERATORS[lower]
            if lower == "not" and _is_word(tokens, index + 1, "in"):
                fix = "!(x in list)"
            problems.append(
                ExpressionProblem(
                    "error",
                    f"{token.text!r} is not a CEL operator",
                    f"use {fix} instead of {token.text}",
                    token.start,
                )
            )
        elif token.text in _PYTHON_CONSTANTS and not _is_op(tokens, index + 1, "("):
            fix = _PYTHON_CONSTANTS[token.text]
            problems.append(
                ExpressionProblem(
                    "error",
                    f"{token.text!r} is not a CEL literal",
                    f"use {fix} instead of {token.text}",
                    token.start,
                )
            )
        elif (
            token.text in RESERVED_WORDS
            and token.text not in CEL_ALIASES
            and not _is_op(tokens, index + 1, "(")
        ):
            problems.append(
                ExpressionProblem(
                    "error",
                    f"{token.text!r} is a reserved word in CEL and cannot be used as a name",
                    f"reach it through its namespace, e.g. outputs.<node>.{token.text}",
                    token.start,
                )
            )
        elif token.text == "is" and _used_as_operator(tokens, index):
            problems.append(
                ExpressionProblem(
                    "error",
                    "'is' is not a CEL operator",
                    "use == (x == null) or != (x != null)",
                    token.start,
                )
            )
    problems.extend(_member_problems(tokens))
    problems.extend(_juxtaposition_problems(tokens, {p.offset for p in problems}))
    return problems


def _member_problems(tokens: list[Token] | tuple[Token, ...]) -> list[ExpressionProblem]:
    problems: list[ExpressionProblem] = []
    for index, token in enumerate(tokens):
        if (
            token.is_word("length", "len")
            and _is_member(tokens, index)
            and not _is_op(tokens, index + 1, "(")
        ):
            problems.append(
                ExpressionProblem(
                    "warning",
                    f"'.{token.text}' reads a field named {token.text!r}; CEL has no such property",
                    "to count items or characters, use .size() (or size(x))",
                    token.start,
                )
            )
    return problems


def _juxtaposition_problems(
    tokens: list[Token] | tuple[Token, ...], already: set[int]
) -> list[ExpressionProblem]:
    """Two operands side by side (``ready yes``): prose, or a missing operator."""
    for index in range(1, len(tokens)):
        left, right = tokens[index - 1], tokens[index]
        if left.start in already or right.start in already:
            continue
        # ``f(x)``, ``a[0]`` and ``T{...}`` are calls, indexing and literals, not juxtaposition.
        if not (_ends_operand(left) and right.kind in _OPERAND_END_KINDS):
            continue
        if right.is_word("in") or left.is_word("in"):
            continue
        words = sum(1 for t in tokens if t.kind == "ident")
        if words >= 2 and all(t.kind == "ident" or t.is_op("-", ",", ".") for t in tokens):
            return [
                ExpressionProblem(
                    "error",
                    "this reads as prose, not as an expression",
                    "a condition is CEL, e.g. severity == 'high'; put descriptions in label",
                    tokens[0].start,
                )
            ]
        return [
            ExpressionProblem(
                "error",
                f"missing operator between {left.text!r} and {right.text!r}",
                "join conditions with && or ||, and compare with ==, !=, <, >",
                right.start,
            )
        ]
    return []


def _status_problems(tokens: list[Token] | tuple[Token, ...]) -> list[ExpressionProblem]:
    problems: list[ExpressionProblem] = []
    for literal in find_status_literals(tokens):
        if literal.canonical is None:
            problems.append(
                ExpressionProblem(
                    "warning",
                    f"status() never returns {literal.value!r}, so this comparison never holds",
                    "compare with one of " + ", ".join(NODE_STATUSES[:4]) + " (or success, "
                    "failed, skipped, timeout)",
                    literal.token.start,
                )
            )
    return problems


def _hyphen_problems(tokens: list[Token] | tuple[Token, ...]) -> list[ExpressionProblem]:
    """``outputs.unit-tests.ok`` is a subtraction in CEL; ids with '-' need brackets."""
    problems: list[ExpressionProblem] = []
    for index in range(2, len(tokens) - 1):
        minus = tokens[index]
        if not minus.is_op("-"):
            continue
        left, right = tokens[index - 1], tokens[index + 1]
        tight = left.end == minus.start and minus.end == right.start
        if not (tight and left.kind == "ident" and right.kind == "ident"):
            continue
        if not (
            tokens[index - 2].is_op(".") and index >= 3 and tokens[index - 3].is_word("outputs")
        ):
            continue
        node_id = f"{left.text}-{right.text}"
        problems.append(
            ExpressionProblem(
                "warning",
                f"'outputs.{node_id}' is read as a subtraction ({left.text} - {right.text})",
                f"write outputs['{node_id}'] for a node id with a hyphen",
                tokens[index - 3].start,
            )
        )
    return problems


def _is_op(tokens: list[Token] | tuple[Token, ...], i: int, *texts: str) -> bool:
    return 0 <= i < len(tokens) and tokens[i].is_op(*texts)


def _is_word(tokens: list[Token] | tuple[Token, ...], i: int, word: str) -> bool:
    return 0 <= i < len(tokens) and tokens[i].is_word(word)


def _is_member(tokens: list[Token] | tuple[Token, ...], index: int) -> bool:
    return index > 0 and tokens[index - 1].is_op(".")


def _ends_operand(token: Token) -> bool:
    if token.kind in _OPERAND_END_KINDS:
        return not token.is_word("in")
    return token.is_op(")", "]", "}")


def _starts_operand(token: Token) -> bool:
    return token.kind in _OPERAND_END_KINDS or token.is_op("(", "[", "{", "!")


def _used_as_operator(tokens: list[Token] | tuple[Token, ...], index: int) -> bool:
    """``and`` between operands, or ``not`` before one: an operator, not a name."""
    before_ends = index > 0 and _ends_operand(tokens[index - 1])
    after_starts = index + 1 < len(tokens) and _starts_operand(tokens[index + 1])
    if tokens[index].text.lower() == "not" or tokens[index].text == "is":
        return after_starts
    return before_ends and after_starts
