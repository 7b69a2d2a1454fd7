"""What a CEL expression reads: variable paths and function calls, found statically.

The validator uses :func:`referenced_names` to warn about names no node
declares; the evaluator uses the same analysis to hand CEL only the part of the
activation an expression can reach (converting a whole run's outputs for every
edge would cost milliseconds).
"""

from __future__ import annotations

from dataclasses import dataclass

from osop.errors import ExpressionError
from osop.expr._celengine import stdlib_functions
from osop.expr.lexer import CEL_ALIASES, KEYWORDS, RESERVED_WORDS, Token, decode_string, tokenize

__all__ = [
    "QUALIFIED_FUNCTIONS",
    "Analysis",
    "Reference",
    "analyze",
    "matching_brackets",
    "referenced_names",
]

# Namespaced functions (``math.greatest``): their first segment is not a variable.
QUALIFIED_FUNCTIONS = frozenset(name for name in stdlib_functions if "." in name)

# Member macros whose first argument binds a fresh variable: ``list.all(x, x > 0)``.
BINDING_MACROS = frozenset({"all", "exists", "exists_one", "map", "filter"})

# Tokens after which an expression cannot continue: ``.name`` then starts a new operand.
_OPERAND_END_KINDS = frozenset({"ident", "number", "string", "bytes"})
_OPERAND_END_OPS = frozenset({")", "]", "}"})


@dataclass(frozen=True, slots=True)
class Reference:
    """A variable path the expression reads, e.g. ``("outputs", "test", "passed")``."""

    path: tuple[str, ...]
    offset: int
    end: int
    # Inside ``has(...)``: the expression tests for presence, so absence is fine.
    guarded: bool = False

    @property
    def root(self) -> str:
        return self.path[0]

    @property
    def dotted(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True, slots=True)
class Analysis:
    """The static facts about one expression that the evaluator and linter need."""

    tokens: tuple[Token, ...]
    references: tuple[Reference, ...]
    # Function names called: free (``status``), qualified (``math.greatest``) or member (``size``).
    calls: frozenset[str]
    # Names bound by a macro anywhere in the expression (``x`` in ``l.all(x, x > 0)``).
    bound_names: frozenset[str]


def referenced_names(
    source: str, *, qualified_functions: frozenset[str] = QUALIFIED_FUNCTIONS
) -> list[Reference]:
    """Every variable path ``source`` reads, in source order.

    Function names, member calls, literals, macro-bound variables and keywords are
    excluded. ``outputs["build"].x`` gives ``("outputs", "build", "x")``. Never raises
    on bad text: what cannot be read as CEL is skipped.
    """
    if not isinstance(source, str):
        raise ExpressionError(repr(source), "an expression must be a string")
    return list(analyze(source, qualified_functions=qualified_functions).references)


def analyze(source: str, *, qualified_functions: frozenset[str] = QUALIFIED_FUNCTIONS) -> Analysis:
    """Tokenize ``source`` once and extract its references and calls."""
    tokens = tokenize(source)
    return _Analyzer(tokens, qualified_functions).run()


def matching_brackets(tokens: list[Token] | tuple[Token, ...]) -> dict[int, int]:
    """Map each opening bracket's token index to its closing one (unbalanced ones omitted)."""
    pairs = {"(": ")", "[": "]", "{": "}"}
    stack: list[int] = []
    matches: dict[int, int] = {}
    for index, token in enumerate(tokens):
        if token.kind != "op":
            continue
        if token.text in pairs:
            stack.append(index)
        elif token.text in pairs.values():
            if stack and pairs[tokens[stack[-1]].text] == token.text:
                matches[stack.pop()] = index
            else:
                # A stray closer: give up pairing what is open, as the parser would.
                stack.clear()
    return matches


class _Analyzer:
    def __init__(self, tokens: list[Token], qualified_functions: frozenset[str]) -> None:
        self.tokens = tokens
        self.qualified_functions = qualified_functions
        self.matches = matching_brackets(tokens)
        self.references: list[Reference] = []
        self.calls: set[str] = set()
        self.bound: set[str] = set()
        # (token index where a scope ends, bound name) for macro scopes.
        self.scopes: list[tuple[int, str]] = []
        # Token index ranges inside ``has(...)``.
        self.has_ranges: list[tuple[int, int]] = []

    def run(self) -> Analysis:
        tokens = self.tokens
        i = 0
        while i < len(tokens):
            self.scopes = [s for s in self.scopes if s[0] > i]
            token = tokens[i]
            if token.kind == "ident" and self._starts_operand(i):
                i = self._read_primary(i)
                continue
            if token.is_op(".") and self._starts_operand(i) and self._is_ident(i + 1):
                # A leading-dot (root-scoped) name: ``.inputs.x``.
                i = self._read_primary(i + 1)
                continue
            if token.is_op(".") and self._is_ident(i + 1):
                i = self._read_member(i + 1)
                continue
            i += 1
        return Analysis(
            tokens=tuple(tokens),
            references=tuple(self.references),
            calls=frozenset(self.calls),
            bound_names=frozenset(self.bound),
        )

    def _is_ident(self, i: int) -> bool:
        return i < len(self.tokens) and self.tokens[i].kind == "ident"

    def _is_op(self, i: int, *texts: str) -> bool:
        return i < len(self.tokens) and self.tokens[i].is_op(*texts)

    def _starts_operand(self, i: int) -> bool:
        """True unless token ``i`` follows ``.`` applied to a preceding operand."""
        if self.tokens[i].kind == "ident" and i > 0 and self.tokens[i - 1].is_op("."):
            return not self._ends_operand(i - 2)
        return not (self.tokens[i].is_op(".") and self._ends_operand(i - 1))

    def _ends_operand(self, i: int) -> bool:
        if i < 0:
            return False
        token = self.tokens[i]
        if token.kind in _OPERAND_END_KINDS:
            return not token.is_word("in")
        return token.kind == "op" and token.text in _OPERAND_END_OPS

    def _read_primary(self, i: int) -> int:
        """Read an identifier that starts an operand; return the next token index."""
        token = self.tokens[i]
        name = token.text
        if name in KEYWORDS or (name in RESERVED_WORDS and name not in CEL_ALIASES):
            return i + 1
        if self._is_op(i + 1, "("):
            self.calls.add(name)
            if name == "has" and i + 1 in self.matches:
                self.has_ranges.append((i + 1, self.matches[i + 1]))
            return i + 2
        if self._is_op(i + 1, "{"):
            # A message literal ``Type{field: value}``: a type name, not a variable.
            return i + 1
        path = [name]
        end = token.end
        j = i + 1
        while True:
            if self._is_op(j, ".") and self._is_ident(j + 1):
                member = self.tokens[j + 1].text
                if self._is_op(j + 2, "("):
                    qualified = ".".join([*path, member])
                    if j == i + 1 + 2 * (len(path) - 1) and qualified in self.qualified_functions:
                        # ``math.greatest(...)``: a namespaced function, no variable at all.
                        self.calls.add(qualified)
                        return j + 3
                    break
                path.append(member)
                end = self.tokens[j + 1].end
                j += 2
                continue
            if (
                self._is_op(j, "[")
                and j + 2 < len(self.tokens)
                and self.tokens[j + 1].kind == "string"
                and self._is_op(j + 2, "]")
            ):
                key = decode_string(self.tokens[j + 1])
                if key is None:
                    break
                path.append(key)
                end = self.tokens[j + 2].end
                j += 3
                continue
            break
        if not self._is_bound(name, i):
            self.references.append(
                Reference(tuple(path), token.start, end, guarded=self._in_has(i))
            )
        return j

    def _read_member(self, i: int) -> int:
        """Read ``.name`` after an operand: a field (skipped) or a member call."""
        name = self.tokens[i].text
        if not self._is_op(i + 1, "("):
            return i + 1
        self.calls.add(name)
        open_index = i + 1
        if (
            name in BINDING_MACROS
            and self._is_ident(i + 2)
            and self._is_op(i + 3, ",")
            and open_index in self.matches
        ):
            bound = self.tokens[i + 2].text
            self.bound.add(bound)
            self.scopes.append((self.matches[open_index], bound))
            # Skip the binding itself: it is a declaration, not a use.
            return i + 4
        return i + 2

    def _is_bound(self, name: str, i: int) -> bool:
        return any(bound == name and end > i for end, bound in self.scopes)

    def _in_has(self, i: int) -> bool:
        return any(start < i < end for start, end in self.has_ranges)
