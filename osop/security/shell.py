"""Split shell text into pipelines of simple commands, the way ``sh`` would read it.

This is not a shell parser: it is enough structure for risk classification.
Quotes are honoured (``shlex``), ``;``, ``&&``, ``||``, ``&``, newlines and
parentheses separate commands, ``|`` joins commands into a pipeline, and
redirections are kept apart from arguments.  Text ``shlex`` cannot read
(an unclosed quote) falls back to splitting on whitespace, so odd input is
still classified rather than waved through: quotes are dropped so that quoted
code counts as code.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import Final

__all__ = ["SimpleCommand", "split_pipelines", "substitutions"]

_PUNCTUATION: Final = "();<>|&\n"
_FALLBACK: Final = re.compile(r"\|\||&&|\|&|[;&|()\n]|>>|[<>]|[^\s;&|()<>]+")


@dataclass(slots=True)
class SimpleCommand:
    """One command: its words and its redirections (operator, target)."""

    words: list[str] = field(default_factory=list)
    redirects: list[tuple[str, str]] = field(default_factory=list)

    @property
    def text(self) -> str:
        parts = list(self.words) + [f"{op} {target}" for op, target in self.redirects]
        return " ".join(parts)


def _exact_tokens(text: str) -> list[str]:
    """Tokens as ``sh`` reads them; ``ValueError`` when the text is not well formed."""
    lexer = shlex.shlex(text.replace("\\\n", ""), posix=True, punctuation_chars=_PUNCTUATION)
    lexer.whitespace = " \t\r"
    lexer.whitespace_split = True
    return list(lexer)


def _tokens(text: str) -> tuple[list[str], bool]:
    """The tokens, and whether the text was well formed."""
    try:
        return _exact_tokens(text), True
    except ValueError:
        # Read it the pessimistic way: quotes dropped, so quoted code is seen as code.
        unquoted = text.replace("\\\n", "").replace("'", "").replace('"', "")
        return _FALLBACK.findall(unquoted), False


def _is_operator(token: str) -> bool:
    return bool(token) and all(c in _PUNCTUATION for c in token)


def split_pipelines(text: str) -> tuple[list[list[SimpleCommand]], bool]:
    """``a | b; c && d`` → ``[[a, b], [c], [d]]``, and whether the text was well formed."""
    pipelines: list[list[SimpleCommand]] = []
    current: list[SimpleCommand] = []
    command = SimpleCommand()
    pending_redirect: str | None = None

    def end_command() -> None:
        nonlocal command
        if command.words or command.redirects:
            current.append(command)
        command = SimpleCommand()

    def end_pipeline() -> None:
        nonlocal current
        end_command()
        if current:
            pipelines.append(current)
        current = []

    tokens, exact = _tokens(text)
    for token in tokens:
        if pending_redirect is not None and not _is_operator(token):
            command.redirects.append((pending_redirect, token))
            pending_redirect = None
            continue
        if not _is_operator(token):
            command.words.append(token)
            continue
        pending_redirect = None
        if "(" in token or ")" in token:
            end_pipeline()
        elif token in ("|", "|&") or ("|" in token and "||" not in token and "&&" not in token):
            end_command()
        elif token[0] in "<>" or token.startswith("&>"):
            pending_redirect = token
        else:
            end_pipeline()
    end_pipeline()
    return pipelines, exact


def substitutions(text: str) -> list[str]:
    """Bodies of ``$(...)`` and backtick substitutions (run by the shell, so classified too)."""
    found = re.findall(r"`([^`]*)`", text)
    start = text.find("$(")
    while start != -1:
        depth, i = 0, start + 1
        while i < len(text):
            if text[i] == "(":
                depth += 1
            elif text[i] == ")":
                depth -= 1
                if depth == 0:
                    break
            i += 1
        found.append(text[start + 2 : i])
        start = text.find("$(", start + 2)
    return [f for f in found if f.strip()]
