"""Status spellings: ``status(id) == "success"`` means ``== "COMPLETED"``.

``status()`` returns a record status (COMPLETED, FAILED, SKIPPED, TIMED_OUT),
but the spec's own examples compare it with ``"success"`` and ``"timeout"``.
Before compiling, a string literal compared directly with a ``status(...)``
call (``==``, ``!=``, or ``in`` a list of literals) is rewritten to the
canonical status, case-insensitively. No other literal is ever touched.
"""

from __future__ import annotations

from dataclasses import dataclass

from osop.expr.lexer import Token, decode_string
from osop.expr.references import matching_brackets

__all__ = [
    "NODE_STATUSES",
    "STATUS_SPELLINGS",
    "StatusLiteral",
    "apply_replacements",
    "canonical_status",
    "find_status_literals",
    "rewrite_status_literals",
    "status_replacements",
]

# What ``status()`` can return: the final record statuses, then those of a node
# that has not finished (an edge may ask about a node that has not run yet).
NODE_STATUSES = (
    "COMPLETED",
    "FAILED",
    "SKIPPED",
    "TIMED_OUT",
    "CANCELLED",
    "PENDING",
    "RUNNING",
    "WAITING",
)

STATUS_SPELLINGS: dict[str, str] = {
    **{s.lower(): s for s in NODE_STATUSES},
    "success": "COMPLETED",
    "succeeded": "COMPLETED",
    "successful": "COMPLETED",
    "complete": "COMPLETED",
    "done": "COMPLETED",
    "ok": "COMPLETED",
    "passed": "COMPLETED",
    "fail": "FAILED",
    "failure": "FAILED",
    "error": "FAILED",
    "errored": "FAILED",
    "timeout": "TIMED_OUT",
    "timedout": "TIMED_OUT",
    "timed-out": "TIMED_OUT",
    "skip": "SKIPPED",
    "canceled": "CANCELLED",
    "timed out": "TIMED_OUT",
}

# Tokens that bound an equality comparison on the left / right: anything that
# binds looser than ``==`` (or an opening/closing bracket or separator).
_LEFT_BOUNDARY = frozenset({"(", "[", "{", ",", "&&", "||", "?", ":"})
_RIGHT_BOUNDARY = frozenset({")", "]", "}", ",", "&&", "||", "?", ":", "==", "!="})


def canonical_status(spelling: str) -> str | None:
    """``"success"`` → ``"COMPLETED"``; None when the spelling names no status."""
    return STATUS_SPELLINGS.get(spelling.strip().lower())


@dataclass(frozen=True, slots=True)
class StatusLiteral:
    """A string literal compared with a ``status(...)`` call."""

    token: Token
    value: str
    canonical: str | None


def find_status_literals(tokens: list[Token] | tuple[Token, ...]) -> list[StatusLiteral]:
    """Every string literal compared directly with a ``status(...)`` call."""
    matches = matching_brackets(tokens)
    found: dict[int, StatusLiteral] = {}
    for index, token in enumerate(tokens):
        if not (token.is_word("status") and _is_op(tokens, index + 1, "(")):
            continue
        if index > 0 and tokens[index - 1].is_op("."):
            continue  # ``x.status(...)`` is somebody else's function.
        close = matches.get(index + 1)
        if close is None:
            continue
        call_left_ok = _left_bounded(tokens, index)
        # status(...) == 'x'  /  status(...) in ['x', 'y']
        if call_left_ok and _is_op(tokens, close + 1, "==", "!="):
            literal = close + 2
            if _is_plain_string(tokens, literal) and _right_bounded(tokens, literal + 1):
                found[literal] = _literal(tokens[literal])
        if (
            call_left_ok
            and _is_word(tokens, close + 1, "in")
            and _is_op(tokens, close + 2, "[")
            and (close + 2) in matches
        ):
            end = matches[close + 2]
            if _right_bounded(tokens, end + 1):
                elements = _literal_list(tokens, close + 3, end)
                for element in elements or ():
                    found[element] = _literal(tokens[element])
        # 'x' == status(...)
        if (
            index >= 2
            and _is_op(tokens, index - 1, "==", "!=")
            and _is_plain_string(tokens, index - 2)
            and _left_bounded(tokens, index - 2)
            and _right_bounded(tokens, close + 1)
        ):
            found[index - 2] = _literal(tokens[index - 2])
    return [found[i] for i in sorted(found)]


def status_replacements(tokens: list[Token] | tuple[Token, ...]) -> list[tuple[int, int, str]]:
    """``(start, end, new_text)`` for every status-compared literal that needs rewriting."""
    return [
        (literal.token.start, literal.token.end, f'"{literal.canonical}"')
        for literal in find_status_literals(tokens)
        if literal.canonical is not None and literal.canonical != literal.value
    ]


def rewrite_status_literals(source: str, tokens: list[Token] | tuple[Token, ...]) -> str:
    """``source`` with every status-compared literal replaced by its canonical status."""
    return apply_replacements(source, status_replacements(tokens))


def apply_replacements(source: str, replacements: list[tuple[int, int, str]]) -> str:
    """Replace non-overlapping ``(start, end, text)`` spans of ``source``."""
    if not replacements:
        return source
    pieces: list[str] = []
    cursor = 0
    for start, end, text in sorted(replacements):
        pieces.append(source[cursor:start])
        pieces.append(text)
        cursor = end
    pieces.append(source[cursor:])
    return "".join(pieces)


def _literal(token: Token) -> StatusLiteral:
    value = decode_string(token) or ""
    return StatusLiteral(token, value, canonical_status(value))


def _is_op(tokens: list[Token] | tuple[Token, ...], i: int, *texts: str) -> bool:
    return 0 <= i < len(tokens) and tokens[i].is_op(*texts)


def _is_word(tokens: list[Token] | tuple[Token, ...], i: int, word: str) -> bool:
    return 0 <= i < len(tokens) and tokens[i].is_word(word)


def _is_plain_string(tokens: list[Token] | tuple[Token, ...], i: int) -> bool:
    return (
        0 <= i < len(tokens) and tokens[i].kind == "string" and decode_string(tokens[i]) is not None
    )


def _left_bounded(tokens: list[Token] | tuple[Token, ...], i: int) -> bool:
    """Nothing before token ``i`` binds tighter than ``==``."""
    return i == 0 or (tokens[i - 1].kind == "op" and tokens[i - 1].text in _LEFT_BOUNDARY)


def _right_bounded(tokens: list[Token] | tuple[Token, ...], i: int) -> bool:
    """Nothing from token ``i`` on binds tighter than ``==``."""
    return i >= len(tokens) or (tokens[i].kind == "op" and tokens[i].text in _RIGHT_BOUNDARY)


def _literal_list(
    tokens: list[Token] | tuple[Token, ...], start: int, end: int
) -> list[int] | None:
    """Indices of the elements of ``[ 'a', 'b' ]`` if it holds only plain strings."""
    elements: list[int] = []
    i = start
    while i < end:
        if not _is_plain_string(tokens, i):
            return None
        elements.append(i)
        if i + 1 < end and not tokens[i + 1].is_op(","):
            return None
        i += 2
    return elements
