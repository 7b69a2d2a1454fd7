"""Import other tools' records of work as ``.osoplog`` runs: agent sessions.

One module per agent (:mod:`osop.importers.claude_code`, :mod:`osop.importers.codex`),
each a parser into :class:`~osop.importers.session.AgentSession`; one builder
(:mod:`osop.importers.build`) makes the records, so every agent's sessions have the
same shape and every analysis works on them unchanged.

Plug-ins: a distribution adds an agent through the ``osop.importers`` entry-point
group, e.g. in ``pyproject.toml``::

    [project.entry-points."osop.importers"]
    aider = "my_package.aider:AiderImporter"

The object loaded is an importer class (called with no arguments) or instance with
``name``, ``description`` and ``sessions(path) -> Iterable[AgentSession]``.  A broken
plug-in is reported when it is asked for, never when OSOP starts.
"""

from __future__ import annotations

import importlib
import inspect
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Protocol, cast, runtime_checkable

from osop.engine.store import check_run_id
from osop.errors import OsopError
from osop.importers.build import BuildOptions, build_records
from osop.importers.session import AgentSession
from osop.record.model import RunRecord

__all__ = [
    "ENTRY_POINT_GROUP",
    "ImportedSession",
    "Importer",
    "available_importers",
    "get_importer",
    "import_sessions",
    "register_importer",
    "store_records",
    "write_records",
]

ENTRY_POINT_GROUP: Final = "osop.importers"


@runtime_checkable
class Importer(Protocol):
    name: str
    description: str

    def sessions(self, path: Path) -> Iterable[AgentSession]:
        """Every session found at ``path`` (a file or a folder)."""
        ...


_BUILTIN: Final = {
    "claude-code": "osop.importers.claude_code:ClaudeCodeImporter",
    "codex": "osop.importers.codex:CodexImporter",
}
_registered: dict[str, Importer] = {}


def register_importer(importer: Importer) -> None:
    """Use ``importer`` for ``importer.name`` (before plug-ins and built-ins)."""
    _check(importer, "register_importer")
    _registered[importer.name] = importer


def _check(obj: Any, source: str) -> None:
    if not isinstance(getattr(obj, "name", None), str) or not callable(
        getattr(obj, "sessions", None)
    ):
        raise OsopError(f"{source}: an importer needs a string `name` and `sessions(path)`")


def _plugins() -> dict[str, Any]:
    from importlib.metadata import entry_points

    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def get_importer(name: str) -> Importer:
    """The importer for agent ``name``: registered, then plug-in, then built-in."""
    if name in _registered:
        return _registered[name]
    plugin = _plugins().get(name)
    if plugin is not None:
        try:
            obj = plugin.load()
            obj = obj() if inspect.isclass(obj) else obj
        except Exception as exc:  # a broken plug-in: say which, never a traceback
            raise OsopError(f"importer plug-in {plugin.value!r} failed to load: {exc}") from exc
        _check(obj, f"importer plug-in {plugin.value!r}")
        return cast(Importer, obj)
    target = _BUILTIN.get(name)
    if target is None:
        known = ", ".join(sorted(available_importers()))
        raise OsopError(f"no importer for {name!r} (known: {known})")
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)()  # type: ignore[no-any-return]


def available_importers() -> dict[str, str]:
    """Agent name → where its importer comes from."""
    out = {name: "built-in " + target.replace(":", ".") for name, target in _BUILTIN.items()}
    try:
        for name, ep in _plugins().items():
            out[name] = f"plug-in {ep.value}"
    except Exception:  # broken metadata must not hide the built-ins
        pass
    for name, importer in _registered.items():
        out[name] = f"registered {type(importer).__module__}.{type(importer).__name__}"
    return out


@dataclass
class ImportedSession:
    """One session: its record, its sub-agents' records, what was odd about it."""

    session: AgentSession
    records: list[RunRecord]
    warnings: list[str] = field(default_factory=list)

    @property
    def record(self) -> RunRecord:
        return self.records[0]


def import_sessions(
    agent: str,
    paths: Sequence[str | Path],
    *,
    include_content: bool = False,
    prices: str | Path | None = None,
) -> Iterator[ImportedSession]:
    """Read every session at ``paths`` with the ``agent`` importer and build its records."""
    importer = get_importer(agent)
    options = BuildOptions(include_content=include_content, prices=prices)
    for path in paths:
        target = Path(path).expanduser()
        if not target.exists():
            raise OsopError(f"no such file or folder: {target}")
        for session in importer.sessions(target):
            records = build_records(session, options)
            yield ImportedSession(session, records, _warnings(session))


def _warnings(session: AgentSession) -> list[str]:
    where = session.source or session.session_id
    out = [f"{where}: {note}" for note in session.notes]
    for child in session.children():
        out.extend(_warnings(child))
    return out


def write_records(imported: ImportedSession, folder: str | Path) -> list[Path]:
    """``<folder>/<session-id>.osoplog.json`` (+ one file per sub-agent run)."""
    from osop.record.writer import write_record

    out: list[Path] = []
    base = Path(folder)
    name = _file_stem(imported.session.session_id)
    for index, record in enumerate(imported.records):
        if index == 0:
            stem = name
        else:
            agent = (record.extra.get("x-session") or {}).get("agent_id") or record.run_id[:8]
            stem = f"{name}.agent-{_file_stem(str(agent))}"
        # The folder is the one the caller named for these records: made if missing.
        out.append(write_record(record, base / f"{stem}.osoplog.json", create_parents=True))
    return out


def _file_stem(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in text)[:120] or "session"


def store_records(imported: ImportedSession, store: Any) -> list[str]:
    """Put the records in the run store (``osop runs/status/report`` see them).

    A session imported again replaces its earlier import (sessions grow).
    """
    from osop.record.writer import atomic_write_text, record_to_text

    ids: list[str] = []
    for record in imported.records:
        path = store.runs / check_run_id(record.run_id)
        if path.exists() and not _is_imported(path):
            raise OsopError(f"run {record.run_id} exists in {store.runs} and is not an import")
        path.mkdir(parents=True, exist_ok=True)
        parent = record.extra.get("x-parent-run") or {}
        meta: dict[str, Any] = {
            "run_id": record.run_id,
            "workflow_id": record.workflow_id,
            "mode": record.mode,
            "created_at": record.started_at,
            "imported": {
                "agent": (record.runtime or {}).get("agent"),
                "session_id": (record.runtime or {}).get("session_id"),
                "source": (record.extra.get("x-session") or {}).get("source"),
                "at": datetime.now(UTC).isoformat(),
            },
        }
        if parent.get("run_id"):
            meta["parent_run_id"] = parent["run_id"]
            meta["parent_node"] = parent.get("node_id")
        atomic_write_text(path / "record.osoplog.json", record_to_text(record, "json"))
        atomic_write_text(path / "meta.json", json.dumps(meta, indent=2) + "\n")
        ids.append(record.run_id)
    return ids


def _is_imported(path: Path) -> bool:
    try:
        meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(meta, dict) and bool(meta.get("imported"))
