"""What a run's Temporal history holds in place of secrets, and the ``${env.X}`` it reads.

**Secrets** never enter a history.  The interpreter (a Temporal workflow) resolves
``${secrets.X}`` to a *marker* naming the secret; the attempt (an activity, on a
worker) replaces each marker with the value from the worker's own secret source
(``osop worker --secrets-file``, the worker's environment) just before the executor
runs, and masks every secret value in what it reports back.  The record shows
``***`` wherever a secret was used, exactly as a local run's does.

**Environment.** Locally ``${env.X}`` (and ``env.X`` in a condition) reads the
environment of the process that runs the steps.  On Temporal that is a worker: the
values of the variables the workflow names are read once, by a worker, when the run
starts (an activity, so the values are in the history and every replay decides the
same), and the run reads that snapshot throughout.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from osop.security import SecretStore

__all__ = [
    "ENV_ACTIVITY_NAME",
    "SecretMarkers",
    "env_names",
    "marked_secrets",
    "read_environment",
    "unmark",
]

#: The activity that reads a worker's environment for a starting run (wire contract).
ENV_ACTIVITY_NAME = "osop.environment"
_MARK = "\x00osop-secret:"
_MARKER = re.compile("\x00osop-secret:([^\x00]+)\x00")
#: ``env.NAME`` or ``env['NAME']`` / ``env["NAME"]`` in an expression or a ``${...}``.
_ENV_NAME = re.compile(
    r"(?<![\w.])env\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_]*)|\[\s*['\"]([^'\"]+)['\"]\s*\])"
)


def marker(name: str) -> str:
    """What ``${secrets.NAME}`` resolves to inside the interpreter."""
    return f"{_MARK}{name}\x00"


class SecretMarkers(SecretStore):
    """The interpreter's secret store: every name is "there" and reads as its marker.

    Whether a worker really has the secret is known only on the worker, when the
    attempt runs (a missing one fails the attempt there, as ``MISSING_REFERENCE``).
    """

    def __init__(self) -> None:
        super().__init__({}, environ={})

    def _lookup(self, name: str) -> str | None:
        return marker(name)


def marked_secrets(value: Any) -> set[str]:
    """The names of the secrets whose markers ``value`` holds (deeply)."""
    found: set[str] = set()
    for text in _strings(value):
        found.update(_MARKER.findall(text))
    return found


def unmark(value: Any, secrets: SecretStore, *, rehearsal: bool) -> Any:
    """``value`` with every marker replaced by the secret's value (deeply).

    A secret the store does not hold raises :class:`MissingReferenceError` naming
    it (a rehearsal reads ``***``, as a rehearsal scope does locally).
    """

    def value_of(name: str) -> str:
        if name not in secrets and rehearsal:
            return "***"
        return secrets.get(name)

    def walk(item: Any) -> Any:
        if isinstance(item, str):
            if _MARK not in item:
                return item
            whole = _MARKER.fullmatch(item)
            if whole is not None:
                return value_of(whole.group(1))
            return _MARKER.sub(lambda m: value_of(m.group(1)), item)
        if isinstance(item, Mapping):
            return {k: walk(v) for k, v in item.items()}
        if isinstance(item, list | tuple):
            return [walk(v) for v in item]
        return item

    return walk(value)


def env_names(document: Any) -> list[str]:
    """Every environment variable a workflow document names (``${env.X}``, ``env.X``)."""
    found: set[str] = set()
    for text in _strings(document):
        if "env" in text:
            for dotted, quoted in _ENV_NAME.findall(text):
                found.add(dotted or quoted)
    return sorted(found)


def read_environment(names: Iterable[str], environ: Mapping[str, str]) -> dict[str, str]:
    """The values of ``names`` set in ``environ`` (what the activity returns)."""
    return {name: environ[name] for name in names if name in environ}


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            if isinstance(k, str):
                yield k
            yield from _strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _strings(v)
