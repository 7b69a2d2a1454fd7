"""Shell text as ``bash`` reads it, through a real parser (tree-sitter's bash grammar).

The classifier needs to know, for every command a script can run, its words, its
redirections and whether each word is known before the script runs.  A word is
*static* when quoting alone decides its value (``r'm'``, ``"rm"``, ``\\rm``,
``$'\\x72m'``); it is *dynamic* when a variable, a command substitution or an
arithmetic expansion feeds it.  Dynamic words keep their source text (quotes
removed) so rules such as "``rm -r`` of a ``$VARIABLE``" still apply.

Why tree-sitter-bash: it is the bash grammar that editors and code hosts use every
day (MIT licensed, binary wheels on PyPI, maintained by the tree-sitter project),
it covers the whole language (compound commands, functions, here-documents,
process substitution, ``$'...'`` strings), and it never gives up on bad input: it
marks the broken part and still returns a tree, so text that does not parse is
still looked at, and reported (the classifier treats it as ``dangerous``).
``bashlex`` was the alternative: GPL-3 (a poor fit for an Apache-2.0 runtime
dependency), unreleased since 2023, and it raises on much valid bash.
"""

from __future__ import annotations

import codecs
import re
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Final

from tree_sitter import Language, Node, Parser

from osop._submodules import import_submodules

__all__ = ["Command", "Dynamic", "Pattern", "Word", "command_of", "parse", "static_value", "walk"]

# The grammar only (``_binding``): the package's ``__init__`` imports importlib.resources.
(_BASH,) = import_submodules("tree_sitter_bash", "_binding", hint="pip install tree-sitter-bash")
_LANGUAGE: Final = Language(_BASH.language())
_UNESCAPE: Final = re.compile(r"\\(.)", re.DOTALL)
_DOUBLE_QUOTE_ESCAPE: Final = re.compile(r"\\([\\\"$`\n])")
_LINE_START_BACKSLASH: Final = re.compile(r"\n\\")
_GLOB: Final = re.compile(r"(?<!\\)[*?\[]")
_BRACE: Final = re.compile(r"(?<!\\)\{[^{}]*,[^{}]*\}|(?<!\\)\{[^{}]*\.\.[^{}]*\}")
_DYNAMIC_TYPES: Final = frozenset(
    {
        "simple_expansion",
        "expansion",
        "command_substitution",
        "process_substitution",
        "arithmetic_expansion",
    }
)


class Dynamic(str):
    """A word only known at run time; the string is its source text without quotes."""

    substitutions: tuple[str, ...] = ()


class Pattern(str):
    """A static word with unquoted glob or brace characters (the shell expands it)."""


@dataclass(slots=True)
class Word:
    node: Node
    value: str  # the static value, or the source text when dynamic
    static: bool
    #: Unquoted glob or brace characters: the shell expands the word into file names.
    glob: bool = False
    #: Source text of the command/process substitutions that feed the word.
    substitutions: tuple[str, ...] = ()
    #: Unquoted variable: the shell splits its value into several words.
    splits: bool = False

    def as_arg(self) -> str:
        if self.static:
            return Pattern(self.value) if self.glob else self.value
        dynamic = Dynamic(self.value)
        dynamic.substitutions = self.substitutions
        return dynamic


@dataclass(slots=True)
class Command:
    """One simple command: its words, write redirections and text fed to its stdin."""

    node: Node
    words: list[Word] = field(default_factory=list)
    #: (operator, target) for every redirection that writes.
    writes: list[tuple[str, Word]] = field(default_factory=list)
    #: Text handed to the command's standard input by ``<<<`` or a here-document
    #: (``None`` inside the list when that text is dynamic).
    stdin_text: list[str | None] = field(default_factory=list)

    @property
    def text(self) -> str:
        return _text(self.node)


def _text(node: Node) -> str:
    return (node.text or b"").decode("utf-8", "surrogateescape")


def parse(text: str) -> Node:
    """The syntax tree of ``text`` (``.has_error`` says whether it was well formed)."""
    parser = Parser(_LANGUAGE)
    # The grammar glues a word that starts a line with a backslash (``\\rm``) to the
    # previous line's command; a blank before it reads the same to ``sh``.
    text = _LINE_START_BACKSLASH.sub("\n \\\\", text)
    tree = parser.parse(text.encode("utf-8", "surrogateescape"))
    return tree.root_node


def _unquote_double(inner: str) -> str:
    return _DOUBLE_QUOTE_ESCAPE.sub(lambda m: "" if m.group(1) == "\n" else m.group(1), inner)


def _ansi_c(inner: str) -> str:
    try:
        # An unknown escape (``\;``) stays as written, as in bash; Python keeps it too but
        # warns about it, which a caller classifying commands should not see.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return codecs.decode(inner.encode("latin-1", "backslashreplace"), "unicode_escape")
    except (UnicodeDecodeError, ValueError):
        return inner


def static_value(
    node: Node, env: Mapping[str, str] | None = None
) -> tuple[str | None, list[str], bool]:
    """``(value or None, substitutions, glob)`` of a word node; ``env`` resolves variables."""
    kind = node.type
    source = _text(node)
    if kind in ("word", "number", "command_name", "special_variable_name"):
        if kind == "command_name" and node.named_children:
            return static_value(node.named_children[0], env)
        glob = bool(_GLOB.search(source) or _BRACE.search(source))
        return _UNESCAPE.sub(r"\1", source.replace("\\\n", "")), [], glob
    if kind == "raw_string":
        return source[1:-1], [], False
    if kind == "ansi_c_string":
        return _ansi_c(source[2:-1]), [], False
    if kind in ("string", "translated_string"):
        parts: list[str] = []
        subs: list[str] = []
        known = True
        for child in node.named_children:
            if child.type == "string_content":
                parts.append(_unquote_double(_text(child)))
                continue
            value, inner, _ = static_value(child, env)
            subs += inner
            if value is None:
                known = False
            else:
                parts.append(value)
        if not node.named_children:
            inner_text = source[2:-1] if kind == "translated_string" else source[1:-1]
            return _unquote_double(inner_text), [], False
        return ("".join(parts) if known else None), subs, False
    if kind == "concatenation":
        values: list[str] = []
        subs = []
        known = True
        glob = bool(_BRACE.search(source))
        for child in node.named_children:
            value, inner, child_glob = static_value(child, env)
            subs += inner
            glob = glob or child_glob
            if value is None:
                known = False
            else:
                values.append(value)
        return ("".join(values) if known else None), subs, glob
    if kind in ("simple_expansion", "expansion"):
        names = [c for c in node.named_children if c.type in ("variable_name",)]
        plain = len(node.named_children) == 1 and names
        if env is not None and plain:
            name = _text(names[0])
            if name in env:
                return env[name], [], False
        return None, [], False
    if kind in ("command_substitution", "process_substitution"):
        return None, [source], False
    return None, [], False


def _word(node: Node, env: Mapping[str, str] | None) -> Word:
    value, subs, glob = static_value(node, env)
    splits = node.type in ("simple_expansion", "expansion") or (
        node.type == "command_name"
        and bool(node.named_children)
        and node.named_children[0].type in ("simple_expansion", "expansion")
    )
    if value is None:
        source = _text(node)
        shown = source[1:-1] if len(source) > 1 and source[0] == source[-1] == '"' else source
        return Word(node, shown, False, glob, tuple(subs), splits)
    return Word(node, value, True, glob, tuple(subs), splits)


_WRITE_OPERATORS: Final = frozenset({">", ">>", ">|", "&>", "&>>", ">&", "<>"})


def command_of(node: Node, env: Mapping[str, str] | None = None) -> Command:
    """The words and redirections of a ``command`` node (or a ``redirected_statement``)."""
    if node.type == "redirected_statement":
        body = node.child_by_field_name("body")
        command = (
            command_of(body, env) if body is not None and body.type == "command" else Command(node)
        )
        command.node = node
        for redirect in node.children_by_field_name("redirect"):
            _redirect(command, redirect, env)
        return command
    command = Command(node)
    name = node.child_by_field_name("name")
    if name is not None:
        command.words.append(_word(name, env))
    command.words += [_word(arg, env) for arg in node.children_by_field_name("argument")]
    for redirect in node.children_by_field_name("redirect"):
        _redirect(command, redirect, env)
    return command


def _redirect(command: Command, redirect: Node, env: Mapping[str, str] | None) -> None:
    if redirect.type == "herestring_redirect":
        target = redirect.named_children[-1] if redirect.named_children else None
        if target is not None:
            value, _, _ = static_value(target, env)
            command.stdin_text.append(value)
        return
    if redirect.type == "heredoc_redirect":
        body = [c for c in redirect.named_children if c.type == "heredoc_body"]
        command.stdin_text.append(_text(body[0]) if body else "")
        return
    if redirect.type != "file_redirect":
        return
    operator = "".join(_text(c) for c in redirect.children if not c.is_named)
    destination = redirect.child_by_field_name("destination")
    if destination is None or operator not in _WRITE_OPERATORS:
        return
    if operator == ">&" and destination.type == "number":
        return
    command.writes.append((operator, _word(destination, env)))


def walk(node: Node) -> Iterator[Node]:
    """Every node below ``node`` (iteratively, so deep trees cannot exhaust the stack)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))
