"""Reading ``.env``-style files (``KEY=VALUE`` lines).

Accepted, as most dotenv tools do: blank lines and ``#`` comments; an
``export `` prefix; spaces around ``=``; single-quoted values (literal, may
span lines); double-quoted values (``\\n``, ``\\t``, ``\\"`` and ``\\\\``
escapes, may span lines); unquoted values (trimmed; `` #`` starts a comment).
There is no ``${VAR}`` expansion: a value is exactly what the file says.
A line that is none of these is an error naming the file and line.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

from osop.errors import LoadError

__all__ = ["load_env_file", "parse_env"]

_KEY: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_ESCAPES: Final = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "$": "$"}


def _error(message: str, name: str, line: int) -> LoadError:
    return LoadError(message, rule="env/syntax", file=name, line=line)


def parse_env(text: str, name: str = "<env>") -> dict[str, str]:
    """Parse ``.env`` text into a dict (later keys win)."""
    values: dict[str, str] = {}
    pos, line = 0, 1
    length = len(text)
    while pos < length:
        end = text.find("\n", pos)
        end = length if end == -1 else end
        raw = text[pos:end]
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            pos, line = end + 1, line + 1
            continue
        body = stripped[7:].lstrip() if stripped.startswith("export ") else stripped
        match = _KEY.match(body)
        rest = body[match.end() :].lstrip() if match else ""
        if not match or not rest.startswith("="):
            # The line's text is not shown: a malformed line is often a secret
            # pasted without its key, and errors end up in terminals and CI logs.
            raise _error(
                "expected KEY=VALUE (the line's text is not shown: it may hold a secret)",
                name,
                line,
            )
        key = match.group(0)
        value_start = pos + raw.index(rest) + 1
        while value_start < end and text[value_start] in " \t":
            value_start += 1
        quote = text[value_start] if value_start < length else ""
        if quote in ("'", '"'):
            value, close = _quoted(text, value_start, quote)
            if close == -1:
                raise _error(f"unterminated {quote} quote in value of {key}", name, line)
            trailing_end = text.find("\n", close)
            trailing_end = length if trailing_end == -1 else trailing_end
            trailing = text[close + 1 : trailing_end].strip()
            if trailing and not trailing.startswith("#"):
                raise _error(f"unexpected text after the quoted value of {key}", name, line)
            line += text.count("\n", pos, trailing_end) + 1
            pos = trailing_end + 1
        else:
            value = text[value_start:end]
            comment = re.search(r"\s#", value)
            if comment:
                value = value[: comment.start()]
            value = value.strip()
            pos, line = end + 1, line + 1
        values[key] = value
    return values


def _quoted(text: str, start: int, quote: str) -> tuple[str, int]:
    """The value of a quoted string starting at ``start``, and the index of its closing quote."""
    out: list[str] = []
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == quote:
            return "".join(out), i
        if quote == '"' and ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            out.append(_ESCAPES.get(nxt, "\\" + nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out), -1


def load_env_file(path: str | Path) -> dict[str, str]:
    """Read a ``.env`` file; :class:`~osop.errors.LoadError` when unreadable or malformed."""
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise LoadError(
            f"cannot read env file: {exc.strerror or exc}", rule="env/unreadable", file=str(file)
        ) from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LoadError("env file is not UTF-8", rule="env/unreadable", file=str(file)) from exc
    return parse_env(text.replace("\r\n", "\n"), str(file))
