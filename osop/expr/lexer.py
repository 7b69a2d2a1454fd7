"""A tolerant tokenizer for CEL source text.

It follows the CEL lexical grammar (strings in every quote form, raw and bytes
prefixes, decimal/hex/unsigned/float numbers, identifiers, operators, ``//``
comments) but never raises: what is not CEL becomes an ``error`` token, so the
linter can explain it and the reference finder can still work around it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "CEL_ALIASES",
    "KEYWORDS",
    "RESERVED_WORDS",
    "Token",
    "TokenKind",
    "decode_string",
    "tokenize",
]

TokenKind = Literal["ident", "number", "string", "bytes", "op", "error"]

# ``in`` is an operator spelled like a word; the literals are keywords too.
KEYWORDS = frozenset({"true", "false", "null", "in"})
# Words CEL reserves: they cannot name a variable or a field.
RESERVED_WORDS = frozenset(
    {
        "as",
        "break",
        "const",
        "continue",
        "else",
        "for",
        "function",
        "if",
        "import",
        "let",
        "loop",
        "package",
        "namespace",
        "return",
        "var",
        "void",
    }
)

# Reserved words OSOP needs as names anyway: compiled under an alias (``loop`` → ``__loop__``).
CEL_ALIASES = {"loop": "__loop__"}

_THREE_CHAR_OPS = ("===", "!==")
# ``=``, ``<>``, ``&``, ``|`` are not CEL: they are lexed so the linter can name them.
_TWO_CHAR_OPS = ("==", "!=", "<=", ">=", "&&", "||", "<>", "${")
_ONE_CHAR_OPS = "<>!+-*/%?:.,()[]{}=&|"
_IDENT_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_IDENT_PART = _IDENT_START | frozenset("0123456789")
_DIGITS = frozenset("0123456789")
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_SPACE = frozenset(" \t\n\r\f")


@dataclass(frozen=True, slots=True)
class Token:
    """One lexeme: its kind, its exact text and where it starts and ends."""

    kind: TokenKind
    text: str
    start: int
    end: int
    # For ``error`` tokens: what went wrong (``unterminated string``...).
    problem: str = ""

    def is_op(self, *texts: str) -> bool:
        return self.kind == "op" and self.text in texts

    def is_word(self, *words: str) -> bool:
        return self.kind == "ident" and self.text in words


def tokenize(source: str) -> list[Token]:
    """Split ``source`` into tokens; whitespace and comments are dropped."""
    tokens: list[Token] = []
    i = 0
    n = len(source)
    while i < n:
        ch = source[i]
        if ch in _SPACE:
            i += 1
            continue
        if source.startswith("//", i):
            newline = source.find("\n", i)
            i = n if newline < 0 else newline + 1
            continue
        string_end = _string_prefix_end(source, i)
        if string_end is not None:
            token = _lex_string(source, i, string_end)
            tokens.append(token)
            i = token.end
            continue
        if ch in _DIGITS or (ch == "." and i + 1 < n and source[i + 1] in _DIGITS):
            token = _lex_number(source, i)
            tokens.append(token)
            i = token.end
            continue
        if ch in _IDENT_START:
            j = i + 1
            while j < n and source[j] in _IDENT_PART:
                j += 1
            tokens.append(Token("ident", source[i:j], i, j))
            i = j
            continue
        op = _match_operator(source, i)
        if op:
            tokens.append(Token("op", op, i, i + len(op)))
            i += len(op)
            continue
        tokens.append(Token("error", ch, i, i + 1, problem=f"unexpected character {ch!r}"))
        i += 1
    return tokens


def _match_operator(source: str, i: int) -> str:
    for op in _THREE_CHAR_OPS:
        if source.startswith(op, i):
            return op
    for op in _TWO_CHAR_OPS:
        if source.startswith(op, i):
            return op
    return source[i] if source[i] in _ONE_CHAR_OPS else ""


def _string_prefix_end(source: str, i: int) -> int | None:
    """Index of the opening quote if a string literal starts at ``i``, else None."""
    j = i
    # A prefix is at most two letters from {r, b}, in either order, any case.
    while j < len(source) and j - i < 2 and source[j] in "rRbB":
        j += 1
    if j < len(source) and source[j] in "'\"":
        prefix = source[i:j].lower()
        if len(set(prefix)) == len(prefix):
            return j
    return None


def _lex_string(source: str, start: int, quote_at: int) -> Token:
    prefix = source[start:quote_at].lower()
    raw = "r" in prefix
    kind: TokenKind = "bytes" if "b" in prefix else "string"
    quote = source[quote_at]
    triple = source.startswith(quote * 3, quote_at)
    delimiter = quote * 3 if triple else quote
    i = quote_at + len(delimiter)
    n = len(source)
    while i < n:
        if source.startswith(delimiter, i):
            end = i + len(delimiter)
            return Token(kind, source[start:end], start, end)
        ch = source[i]
        if ch == "\\" and not raw:
            i += 2
            continue
        if ch in "\r\n" and not triple:
            break
        i += 1
    end = min(i, n)
    return Token("error", source[start:end], start, end, problem="unterminated string")


def _lex_number(source: str, start: int) -> Token:
    n = len(source)
    i = start
    if source.startswith(("0x", "0X"), i) and i + 2 < n and source[i + 2] in _HEX_DIGITS:
        i += 2
        while i < n and source[i] in _HEX_DIGITS:
            i += 1
        if i < n and source[i] in "uU":
            i += 1
        return Token("number", source[start:i], start, i)
    while i < n and source[i] in _DIGITS:
        i += 1
    is_float = False
    if i + 1 < n and source[i] == "." and source[i + 1] in _DIGITS:
        is_float = True
        i += 1
        while i < n and source[i] in _DIGITS:
            i += 1
    if i < n and source[i] in "eE":
        j = i + 1
        if j < n and source[j] in "+-":
            j += 1
        if j < n and source[j] in _DIGITS:
            is_float = True
            i = j
            while i < n and source[i] in _DIGITS:
                i += 1
    if not is_float and i < n and source[i] in "uU":
        i += 1
    return Token("number", source[start:i], start, i)


_SIMPLE_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    "'": "'",
    '"': '"',
    "`": "`",
    "?": "?",
}


def decode_string(token: Token) -> str | None:
    """The value of a ``string`` token, or None when it uses an escape we do not decode."""
    if token.kind != "string":
        return None
    text = token.text
    quote_at = 0
    while text[quote_at] in "rRbB":
        quote_at += 1
    raw = "r" in text[:quote_at].lower()
    quote = text[quote_at]
    width = 3 if text.startswith(quote * 3, quote_at) else 1
    body = text[quote_at + width : len(text) - width]
    if raw or "\\" not in body:
        return body
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = body[i + 1] if i + 1 < len(body) else ""
        if nxt in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[nxt])
            i += 2
            continue
        # Unicode/hex/octal escapes: rare in paths; let the caller fall back.
        return None
    return "".join(out)
