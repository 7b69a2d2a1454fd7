"""Deep redaction of secret values (binding §9: secrets never reach a file).

Two rules, applied together:

* every occurrence of a known secret value (at least :data:`MIN_SECRET_LENGTH`
  characters; longest first, so a secret that contains another is masked
  whole) inside any string — values *and* keys — of nested dicts, lists and
  tuples becomes ``***``;
* the value of a key that names a secret (``password``, ``token``,
  ``api_key``, ``secret``, ``authorization`` ... see :func:`is_secret_key`)
  becomes ``***`` whatever it holds (``None``, booleans and empty strings are
  kept: they disclose nothing and keep records readable).

Anything that is not a str/dict/list/tuple (numbers, ``None``, objects) is
returned unchanged unless it sits under a secret key.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any, Final

__all__ = [
    "MASK",
    "MIN_SECRET_LENGTH",
    "Redactor",
    "is_secret_key",
    "mask_secret_like",
    "redact",
    "secret_like_values",
]

MASK: Final = "***"
#: Shorter values are not redacted: masking every ``a`` or ``1`` would destroy records.
MIN_SECRET_LENGTH: Final = 4

_SECRET_KEYS: Final = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "passphrase",
        "secret",
        "secrets",
        "token",
        "api_key",
        "apikey",
        "x_api_key",
        "access_key",
        "secret_key",
        "private_key",
        "client_secret",
        "access_token",
        "refresh_token",
        "id_token",
        "auth_token",
        "bearer",
        "authorization",
        "proxy_authorization",
        "cookie",
        "set_cookie",
        "credentials",
        "session_token",
    }
)
_SECRET_SUFFIXES: Final = (
    "_password",
    "_passwd",
    "_secret",
    "_token",
    "_api_key",
    "_apikey",
    "_private_key",
    "_access_key",
    "_secret_key",
    "_credentials",
)


def is_secret_key(key: str) -> bool:
    """Whether a mapping key names a secret (``Authorization``, ``db_password``, ``x-api-key``).

    Counts such as ``prompt_tokens`` or ``max_tokens`` are not secrets.
    """
    norm = key.strip().lower().replace("-", "_")
    return norm in _SECRET_KEYS or norm.endswith(_SECRET_SUFFIXES)


class Redactor:
    """A compiled set of secret values; call it on any value."""

    def __init__(self, secret_values: Iterable[str], *, redact_keys: bool = True) -> None:
        values = sorted(
            {v for v in secret_values if isinstance(v, str) and len(v) >= MIN_SECRET_LENGTH},
            key=lambda v: (-len(v), v),
        )
        self._pattern = re.compile("|".join(re.escape(v) for v in values)) if values else None
        self._redact_keys = redact_keys

    def text(self, value: str) -> str:
        if self._pattern is None:
            return value
        # Masking can join two fragments into a new occurrence of a secret that
        # contains the mask; repeat until stable (each pass shortens the text).
        while True:
            masked = self._pattern.sub(MASK, value)
            if masked == value:
                return masked
            value = masked

    def __call__(self, value: Any) -> Any:
        kind = type(value)
        if kind is int or kind is float or kind is bool or value is None:
            return value  # the usual leaves first: nothing to mask
        if kind is str:
            return self.text(value)
        if kind is dict or (kind is not list and isinstance(value, Mapping)):
            out: dict[Any, Any] = {}
            masking = self._pattern is not None
            for key, item in value.items():
                if isinstance(key, str):
                    new_key = self.text(key) if masking else key
                    if self._redact_keys and _secret_key(key):
                        out[new_key] = _mask_all(item)
                        continue
                else:
                    new_key = key
                kind = type(item)
                if kind is int or kind is float or kind is bool or item is None:
                    out[new_key] = item
                elif kind is str:
                    out[new_key] = self.text(item) if masking else item
                else:
                    out[new_key] = self(item)
            return out
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self(item) for item in value]
        if isinstance(value, tuple):
            return tuple(self(item) for item in value)
        return value


#: :func:`is_secret_key` of the keys seen so far (a run's outputs repeat the same few
#: keys for every node; bounded, since keys may come from data).
_secret_key = lru_cache(maxsize=4096)(is_secret_key)


def _mask_all(value: Any) -> Any:
    if value is None or isinstance(value, bool) or value == "":
        return value
    if isinstance(value, Mapping):
        return {k: _mask_all(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_all(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_mask_all(v) for v in value)
    return MASK


def redact(value: Any, secret_values: Iterable[str], *, redact_keys: bool = True) -> Any:
    """A copy of ``value`` with every secret masked as ``***`` (see the module doc)."""
    return Redactor(secret_values, redact_keys=redact_keys)(value)


# Shapes of credentials that are recognisable without knowing the value: provider
# key formats, `Authorization: Bearer …`, and `NAME=value` / `--name value` where the
# name says secret.  Used where no list of secret values exists (imported agent
# sessions): each match becomes a value for :class:`Redactor`.
_TOKEN_SHAPES: Final = re.compile(
    r"(?<![A-Za-z0-9_\-])(?:"
    r"sk-(?:ant-|proj-)?[A-Za-z0-9_\-]{16,}"  # Anthropic / OpenAI keys
    r"|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}"  # GitHub
    r"|xox[abposr]-[A-Za-z0-9\-]{10,}"  # Slack
    r"|AKIA[0-9A-Z]{16}"  # AWS access key id
    r"|AIza[0-9A-Za-z_\-]{30,}"  # Google API key
    r"|glpat-[A-Za-z0-9_\-]{20,}"  # GitLab
    r"|npm_[A-Za-z0-9]{30,}"
    r"|eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}"  # JWT
    r")"
)
_BEARER: Final = re.compile(r"(?i)\b(?:bearer|basic|token)\s+([A-Za-z0-9._~+/=\-]{8,})")
_ASSIGNED: Final = re.compile(
    r"(?i)(?:^|[\s'\"{,;(])-{0,2}([A-Za-z_][A-Za-z0-9_\-]*)\s*[=:]\s*['\"]?([^\s'\"&;|,)}]{4,})"
)
_FLAG: Final = re.compile(
    r"(?i)--?((?:[a-z]+[_\-])*(?:password|passwd|token|secret|api[_\-]?key|access[_\-]?key))"
    r"[\s=]+['\"]?([^\s'\"]{4,})"
)
_SCHEMES: Final = frozenset({"bearer", "basic", "token", "digest"})
_URL_PASSWORD: Final = re.compile(r"[a-z][a-z0-9+.\-]*://[^/\s:@]+:([^/\s@]{4,})@")


def secret_like_values(text: str) -> set[str]:
    """Substrings of ``text`` that look like credentials (to be masked).

    Finds provider key formats, bearer tokens, passwords in URLs and the values of
    ``NAME=value``, ``"name": "value"`` and ``--name value`` where the name names a
    secret (:func:`is_secret_key`, or ending in ``KEY``).  Errs on the side of
    masking: a record with one ``***`` too many is better than a leaked key.
    """
    found: set[str] = set(_TOKEN_SHAPES.findall(text))
    found.update(_BEARER.findall(text))
    found.update(_URL_PASSWORD.findall(text))
    for name, value in _ASSIGNED.findall(text):
        if value.lower() in _SCHEMES:
            continue
        if is_secret_key(name) or name.lower().replace("-", "_").endswith(("_key", "_pass")):
            found.add(value)
    for _name, value in _FLAG.findall(text):
        found.add(value)
    return {v for v in found if len(v) >= MIN_SECRET_LENGTH}


def mask_secret_like(text: str, known: Iterable[str] = ()) -> str:
    """``text`` with known secret values and anything :func:`secret_like_values` finds masked."""
    values = secret_like_values(text)
    values.update(known)
    if not values:
        return text
    return Redactor(values).text(text)
