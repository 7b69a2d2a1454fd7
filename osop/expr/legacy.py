"""Legacy spellings in real-world conditions, read as the CEL their authors meant.

Real files write ``status == 'failed' AND retry_count < 3`` or Python's ``or``.
These word operators have exactly one CEL meaning, so OSOP accepts them (the
validator warns, ``osop migrate`` rewrites them) instead of rejecting the file.
Anything else that is not CEL stays an error.
"""

from __future__ import annotations

from osop.expr.lexer import tokenize

__all__ = ["modernise_operators"]

_WORDS = {"and": "&&", "or": "||", "not": "!"}


def modernise_operators(source: str) -> tuple[str, list[str]]:
    """``(cel_source, changes)``: word operators (any case) replaced by CEL's symbols.

    ``changes`` lists what was replaced (``"AND → &&"``), empty when nothing was.
    Words inside strings, and member names (``x.and``), are left alone.
    """
    tokens = tokenize(source)
    pieces: list[str] = []
    changes: list[str] = []
    last = 0
    for index, token in enumerate(tokens):
        if token.kind != "ident":
            continue
        symbol = _WORDS.get(token.text.lower())
        if symbol is None:
            continue
        if index > 0 and tokens[index - 1].is_op("."):
            continue
        if index + 1 < len(tokens) and tokens[index + 1].is_op("("):
            continue  # a function named `not(...)` is not an operator
        pieces.append(source[last : token.start])
        pieces.append(symbol)
        last = token.end
        changes.append(f"{token.text} → {symbol}")
    if not changes:
        return source, []
    pieces.append(source[last:])
    return "".join(pieces), changes
