"""Which records an analysis uses: files, folders, globs and run ids, filtered by mode.

``stats``, ``diff``, ``synthesize`` and ``export`` learn from what really happened,
so by default they read **live** records only: a dry run "succeeds" without doing
anything and a simulation's durations are made up.  ``modes`` selects others.  A
record that names no mode (written by another tool) counts as live.

Wherever a record path is accepted, a run id from the run store — or a unique
prefix of one, as git takes commit prefixes — stands for that run's record.  The
selection remembers what it used and what it left out, so every analysis can say
which records it is based on.
"""

from __future__ import annotations

import glob
import os
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from osop.analysis.records import (
    PlainRecord,
    ReadFailure,
    no_records_message,
    read_plain_records,
)
from osop.errors import OsopError, UsageError
from osop.record.model import RunRecord

__all__ = [
    "ALL_MODES",
    "DEFAULT_MODES",
    "LOG_SUFFIXES",
    "RecordSelection",
    "iter_record_files",
    "parse_modes",
    "record_files",
    "record_paths",
    "require_some",
    "select_records",
    "stream_records",
]

LOG_SUFFIXES = (".osoplog", ".osoplog.yaml", ".osoplog.yml", ".osoplog.json")
ALL_MODES = ("live", "simulated", "dry_run")
DEFAULT_MODES = frozenset({"live"})


def parse_modes(values: Iterable[str]) -> frozenset[str]:
    """``--mode live,simulated`` / repeated ``--mode`` / ``all`` → a set of modes."""
    modes: set[str] = set()
    for value in values:
        for part in value.split(","):
            part = part.strip().lower().replace("-", "_")
            if not part:
                continue
            if part == "all":
                modes.update(ALL_MODES)
            elif part in ALL_MODES:
                modes.add(part)
            else:
                raise UsageError(
                    f"unknown mode {part!r}: choose from {', '.join(ALL_MODES)} or all"
                )
    return frozenset(modes) or DEFAULT_MODES


def mode_of(record: RunRecord) -> str:
    return (record.mode or "live").lower()


def record_paths(items: Iterable[str], store_root: Path | None = None) -> list[Path]:
    """Files as given, folders searched (hidden sub-folders skipped), globs, run ids.

    Anything that is neither an existing path nor a glob is looked up as a run id
    (or prefix) in the run store; if that fails too, the error says both.
    """
    return [Path(p) for p in record_files(items, store_root)]


def record_files(items: Iterable[str], store_root: Path | None = None) -> list[str]:
    """:func:`record_paths` as strings (100,000 of them cost far less than paths)."""
    return list(iter_record_files(items, store_root))


def iter_record_files(items: Iterable[str], store_root: Path | None = None) -> Iterator[str]:
    """:func:`record_files` one at a time; the items are checked before this returns."""
    sources = _sources(items, store_root)
    return (file for source in sources for file in _files_of(source))


def _sources(items: Iterable[str], store_root: Path | None) -> list[str | Path]:
    """What ``items`` name: a file (``str``) or a folder (``Path``) each; run ids and
    globs resolved. Every item is checked here, before any record is read."""
    out: list[str | Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            out.append(path)
        elif path.exists():
            out.append(str(path))
        elif any(ch in item for ch in "*?["):
            matches = sorted(Path(m) for m in glob.glob(item, recursive=True))
            if not matches:
                raise UsageError(f"no file matches {item!r}")
            out += [str(m) for m in matches if m.is_file()]
        elif _looks_like_run_id(item):
            out.append(str(_run_record(item, store_root)))
        else:
            raise UsageError(f"no such file or folder: {item}")
    return out


def _files_of(source: str | Path) -> Iterator[str]:
    if isinstance(source, str):
        yield source
        return
    top = str(source)
    prefix = "" if top == "." else os.path.join(top, "")  # Path("./x") is "x"
    yield from _walk(top, prefix, "")


def _walk(top: str, prefix: str, inner: str) -> Iterator[str]:
    """The record files under a folder, found one at a time, in the order (and with the
    names) ``sorted(folder.rglob(...))`` gives: folder by folder, entries by name — a
    sub-folder's files sort where its name does, as paths compare part by part.

    Hidden folders and files are skipped; symbolic links to folders are not followed
    (as ``rglob``); links to files count (``is_file``). Nothing is held but the
    entries of the folders on the way down (100,000 files stream).
    """
    here = prefix + inner if inner else top
    try:
        with os.scandir(here) as listing:
            entries = sorted((entry.name, entry) for entry in listing)
    except OSError:
        return
    for name, entry in entries:
        if name.startswith("."):
            continue
        try:
            is_dir = entry.is_dir()
        except OSError:
            is_dir = False
        rel = inner + os.sep + name if inner else name
        if is_dir:
            if not entry.is_symlink():
                yield from _walk(top, prefix, rel)
        elif name.lower().endswith(LOG_SUFFIXES) and _is_file(entry):
            yield prefix + rel


def _is_file(entry: os.DirEntry[str]) -> bool:
    """``os.path.isfile`` of the entry's path, from what the folder listing already says
    (no ``stat`` for a regular file: one system call fewer per record)."""
    try:
        return entry.is_file()  # follows a symbolic link, as isfile does
    except OSError:
        return False


def _looks_like_run_id(item: str) -> bool:
    """Run ids are UUIDs; a prefix of one has no path separator and no file suffix."""
    return bool(item) and "/" not in item and "\\" not in item and "." not in item


def _run_record(item: str, store_root: Path | None) -> Path:
    from osop.engine.store import RunStore, default_store_root

    store = RunStore(store_root if store_root is not None else default_store_root())
    try:
        handle = store.get(item)
    except OsopError as exc:
        raise UsageError(f"{item}: no such file or folder, and not a run: {exc}") from None
    from osop.engine.runner import materialise_record

    materialise_record(handle)  # current, also for a run that was interrupted
    return handle.record_path


@dataclass
class RecordSelection:
    """The records an analysis uses, and what it left out and why."""

    records: list[tuple[str, RunRecord]] = field(default_factory=list)
    modes: frozenset[str] = DEFAULT_MODES
    used_by_mode: Counter[str] = field(default_factory=Counter)
    left_out_by_mode: Counter[str] = field(default_factory=Counter)
    left_out_other_workflows: Counter[str] = field(default_factory=Counter)
    failures: list[ReadFailure] = field(default_factory=list)
    files: int = 0

    @property
    def runs(self) -> list[RunRecord]:
        return [record for _, record in self.records]

    @property
    def used(self) -> int:
        """How many records were used (also when streamed: see :func:`stream_records`)."""
        return sum(self.used_by_mode.values())

    def describe(self) -> str:
        """One line: what was used and what was left out (for every analysis's output)."""
        used = ", ".join(f"{n} {mode}" for mode, n in sorted(self.used_by_mode.items()))
        text = f"based on {self.used} record(s)" + (f" ({used})" if used else "")
        notes = []
        if self.left_out_by_mode:
            skipped = ", ".join(f"{n} {m}" for m, n in sorted(self.left_out_by_mode.items()))
            notes.append(f"left out {skipped} (select with --mode)")
        if self.left_out_other_workflows:
            others = ", ".join(
                f"{n} of {wf!r}" for wf, n in sorted(self.left_out_other_workflows.items())
            )
            notes.append(f"left out {others} (other workflows)")
        return text + ("; " + "; ".join(notes) if notes else "")

    def to_dict(self) -> dict[str, object]:
        return {
            "records": self.used,
            "modes": sorted(self.modes),
            "used_by_mode": dict(sorted(self.used_by_mode.items())),
            "left_out_by_mode": dict(sorted(self.left_out_by_mode.items())),
            "left_out_other_workflows": dict(sorted(self.left_out_other_workflows.items())),
        }


def select_records(
    items: Sequence[str],
    *,
    modes: frozenset[str] = DEFAULT_MODES,
    store_root: Path | None = None,
    workflow_id: str | None = None,
    require: bool = True,
) -> RecordSelection:
    """Read every record ``items`` name and keep those of ``modes`` (and ``workflow_id``).

    Unreadable files and copies of a run already read go to ``failures`` (callers
    warn about them).  With ``require``, an empty selection is an error that says
    why: nothing found, nothing readable, or everything filtered out.
    """
    selection, stream = stream_records(
        items, modes=modes, store_root=store_root, workflow_id=workflow_id
    )
    for path, plain in stream:
        selection.records.append((path, plain.record()))
    if require:
        require_some(selection, items)
    return selection


def stream_records(
    items: Sequence[str],
    *,
    modes: frozenset[str] = DEFAULT_MODES,
    store_root: Path | None = None,
    workflow_id: str | None = None,
) -> tuple[RecordSelection, Iterator[tuple[str, PlainRecord]]]:
    """:func:`select_records` one record at a time, for analyses that keep no record
    (``osop stats`` over 100,000 files): the selection's counts and failures fill in
    as the iterator is consumed, ``selection.records`` stays empty. Call
    :func:`require_some` once it is exhausted."""
    sources = _sources(items, store_root)
    selection = RecordSelection(modes=modes)

    def files() -> Iterator[str]:
        for source in sources:
            for file in _files_of(source):
                selection.files += 1
                yield file

    def stream() -> Iterator[tuple[str, PlainRecord]]:
        for path, plain in read_plain_records(files(), selection.failures):
            head = plain.head
            mode = mode_of(head)
            if mode not in modes:
                selection.left_out_by_mode[mode] += 1
                continue
            if workflow_id is not None and head.workflow_id != workflow_id:
                selection.left_out_other_workflows[head.workflow_id] += 1
                continue
            selection.used_by_mode[mode] += 1
            yield path, plain

    return selection, stream()


def require_some(selection: RecordSelection, items: Sequence[str]) -> None:
    """An empty selection is an error that says why: nothing found, nothing readable,
    or everything filtered out."""
    if selection.used:
        return
    if selection.left_out_by_mode or selection.left_out_other_workflows:
        raise OsopError(f"no record to use: {selection.describe()}")
    message = no_records_message(items, selection.files)
    if selection.failures:
        shown = "; ".join(f.message for f in selection.failures[:3])
        more = len(selection.failures) - 3
        message += f": {shown}" + (f" (and {more} more)" if more > 0 else "")
    raise OsopError(message)
