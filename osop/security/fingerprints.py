"""Find a run's secrets in text written by another process, without storing them.

``osop approve`` and ``osop signal`` run in their own process and never see the
run's secret values, yet what they write (an approver's notes, an event's data)
lands in the run's ``inbox.jsonl``.  The run records, in its ``meta.json``, a
salted SHA-256 fingerprint of each secret value and its length; a delivery then
masks every substring whose fingerprint matches before anything is written.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from osop.security.redact import MASK

__all__ = ["fingerprint_secrets", "mask_fingerprinted"]

#: Shorter values are not masked anywhere (see :mod:`osop.security.redact`).
_MIN_LENGTH = 4
#: Strings longer than this are masked whole when they may hold a secret at all.
_MAX_SCAN = 200_000


def _digest(salt: str, text: str) -> str:
    return hashlib.sha256((salt + "\x00" + text).encode("utf-8", "surrogatepass")).hexdigest()


def fingerprint_secrets(values: Iterable[str]) -> dict[str, Any]:
    """``{"salt", "items": [[length, digest], ...]}`` for every value worth masking."""
    salt = secrets.token_hex(16)
    items = sorted(
        {(len(v), _digest(salt, v)) for v in values if isinstance(v, str) and len(v) >= _MIN_LENGTH}
    )
    return {"salt": salt, "items": [list(item) for item in items]}


def _mask_text(text: str, salt: str, by_length: dict[int, set[str]]) -> str:
    if len(text) > _MAX_SCAN:
        return MASK if any(length <= len(text) for length in by_length) else text
    # Longest first, so a secret containing another is masked whole.
    for length in sorted(by_length, reverse=True):
        digests = by_length[length]
        i = 0
        out: list[str] = []
        while i + length <= len(text):
            if _digest(salt, text[i : i + length]) in digests:
                out.append(MASK)
                i += length
            else:
                out.append(text[i])
                i += 1
        out.append(text[i:])
        text = "".join(out)
    return text


def mask_fingerprinted(value: Any, fingerprints: Mapping[str, Any] | None) -> Any:
    """A copy of ``value`` with every fingerprinted secret inside any string masked."""
    if not isinstance(fingerprints, Mapping):
        return value
    salt = fingerprints.get("salt")
    items = fingerprints.get("items")
    if not isinstance(salt, str) or not isinstance(items, list):
        return value
    by_length: dict[int, set[str]] = {}
    for item in items:
        if isinstance(item, list) and len(item) == 2 and isinstance(item[0], int):
            by_length.setdefault(item[0], set()).add(str(item[1]))
    if not by_length:
        return value

    def walk(v: Any) -> Any:
        if isinstance(v, str):
            return _mask_text(v, salt, by_length)
        if isinstance(v, Mapping):
            return {walk(k) if isinstance(k, str) else k: walk(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [walk(x) for x in v]
        return v

    return walk(value)
