"""What may be written: secrets redacted, large values truncated with their size noted."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from osop.security import Redactor as SecurityRedactor

__all__ = [
    "CLASSIFICATION_LEVELS",
    "MAX_VALUE_BYTES",
    "RECORDED_UP_TO",
    "Redactor",
    "classification_level",
    "classified_summary",
    "truncate_value",
]

#: Data classification, lowest to highest (binding §9.3).
CLASSIFICATION_LEVELS = {
    "public": 0,
    "internal": 1,
    "confidential": 2,
    "restricted": 3,
    "secret": 4,
}
#: Values of nodes classified above this are kept out of records.
RECORDED_UP_TO = 1


def classification_level(value: str | None) -> int:
    """0 for unclassified/public; an unknown label counts as confidential (fail closed)."""
    if not value:
        return 0
    return CLASSIFICATION_LEVELS.get(value.strip().lower(), CLASSIFICATION_LEVELS["confidential"])


def classified_summary(value: Any, label: str) -> Any:
    """What a record shows instead of a classified node's data: the names, not the values."""
    if isinstance(value, Mapping):
        return {"x-classified": label, "keys": sorted(str(k) for k in value)}
    return {"x-classified": label}


#: A single value larger than this (as JSON) is replaced in the record by a summary.
MAX_VALUE_BYTES = 64 * 1024
_PREVIEW_CHARS = 500


class Redactor:
    """Masks every secret value (deeply) as ``***``, plus values under secret-named keys.

    Wraps :class:`osop.security.Redactor` (compiled once) and learns the values of
    secrets as the run resolves them.
    """

    def __init__(self, secret_values: Iterable[str] = ()) -> None:
        self.values = frozenset(s for s in secret_values if s)
        self._compiled = SecurityRedactor(self.values)

    def add(self, values: Iterable[str]) -> None:
        new = {s for s in values if s} - self.values
        if new:
            self.values = self.values | new
            self._compiled = SecurityRedactor(self.values)

    def __call__(self, value: Any) -> Any:
        return self._compiled(value)  # scalars come back at once


def _small_scalars(value: dict[Any, Any], limit: int) -> bool:
    """Whether ``truncate_value`` keeps every item of ``value`` as it is, told without
    encoding it: str keys; values None, int, float, bool, or a str of at most
    ``limit // 4`` characters (so at most ``limit`` UTF-8 bytes)."""
    chars = limit // 4
    for key, item in value.items():
        if type(key) is not str:
            return False
        kind = type(item)
        if kind is int or kind is float or kind is bool or item is None:
            continue
        if kind is not str or len(item) > chars:
            return False
    return True


def truncate_value(value: Any, limit: int = MAX_VALUE_BYTES) -> Any:
    """``value`` itself, or a summary ``{truncated, size_bytes, preview}`` when it is too large.

    Mappings are truncated per entry so that one large output does not hide the
    small ones next to it.
    """
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        size = len(value.encode("utf-8", "replace"))
        if size <= limit:
            return value
        return {"truncated": True, "size_bytes": size, "preview": value[:_PREVIEW_CHARS]}
    if isinstance(value, Mapping):
        if type(value) is dict and _small_scalars(value, limit):
            return value  # the usual case: small plain values, nothing to cut or copy
        out = {str(k): truncate_value(v, limit) for k, v in value.items()}
        if type(value) is dict and all(type(k) is str and out[k] is v for k, v in value.items()):
            return value  # nothing was cut: the same object (a record holds no copy)
        return out
    text = json.dumps(value, ensure_ascii=False, default=str)
    size = len(text.encode("utf-8", "replace"))
    if size <= limit:
        return value
    return {"truncated": True, "size_bytes": size, "preview": text[:_PREVIEW_CHARS]}
