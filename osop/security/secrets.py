"""Where ``${secrets.NAME}`` values come from, and which values must be redacted.

Lookup order for ``NAME``: values given explicitly, then the env file, then
the process environment (``NAME``, then ``OSOP_SECRET_NAME``).  Every value
handed out is remembered so the engine can redact exactly those values
(:meth:`SecretStore.used_values`); :meth:`SecretStore.all_values` also covers
every value of the env file, for callers that prefer to mask more.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path

from osop.errors import MissingReferenceError
from osop.security.envfile import load_env_file

__all__ = ["SecretStore"]

ENV_PREFIX = "OSOP_SECRET_"


class SecretStore:
    """Secret values by name; :meth:`get` raises when a secret is not set."""

    def __init__(
        self,
        values: Mapping[str, str] | None = None,
        *,
        env_file: str | Path | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._values = dict(values or {})
        self._file_values = load_env_file(env_file) if env_file is not None else {}
        self._env_file = str(env_file) if env_file is not None else None
        self._environ = os.environ if environ is None else environ
        self._used: dict[str, str] = {}

    def _lookup(self, name: str) -> str | None:
        for source in (self._values, self._file_values):
            if name in source:
                return source[name]
        if name in self._environ:
            return self._environ[name]
        return self._environ.get(ENV_PREFIX + name)

    def get(self, name: str) -> str:
        """The value of secret ``name``; :class:`MissingReferenceError` naming it when unset."""
        value = self._lookup(name)
        if value is None:
            where = f"the env file {self._env_file}, " if self._env_file else ""
            raise MissingReferenceError(
                f"secrets.{name}",
                f"secret {name!r} is not set: define it in {where}the environment variable "
                f"{name} or {ENV_PREFIX}{name}",
            )
        self._used[name] = value
        return value

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._lookup(name) is not None

    def __iter__(self) -> Iterator[str]:
        """Names known without scanning the whole environment (explicit + env file)."""
        return iter(dict.fromkeys([*self._values, *self._file_values]))

    def used_values(self) -> frozenset[str]:
        """Values handed out by :meth:`get` so far (what must be redacted)."""
        return frozenset(self._used.values())

    def all_values(self) -> frozenset[str]:
        """Every explicit and env-file value, plus those handed out from the environment."""
        return frozenset(
            [*self._values.values(), *self._file_values.values(), *self._used.values()]
        )
