"""Write ``.osoplog`` files atomically: a crash never leaves a half-written record.

The text goes to a temporary file in the same folder, is fsync'd, then renamed
over the target (``os.replace`` is atomic on POSIX and Windows), and the folder
is fsync'd so the rename itself survives a power cut.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

import yaml

from osop.errors import OsopError
from osop.record.model import RunRecord

__all__ = [
    "atomic_write_text",
    "record_format_for",
    "record_to_text",
    "regular_file_target",
    "write_record",
]

RecordFormat = Literal["json", "yaml"]


def record_format_for(path: str | Path) -> RecordFormat:
    """``json`` for ``*.json``, else ``yaml`` (the canonical form)."""
    return "json" if str(path).lower().endswith(".json") else "yaml"


def record_to_text(
    record: RunRecord | Mapping[str, Any], fmt: RecordFormat = "yaml", *, compact: bool = False
) -> str:
    """The record in the spec's exact form, as JSON or YAML text.

    ``compact`` JSON (one line, C encoder) is several times faster to write: the
    engine uses it for the record it keeps rewriting in the run store.
    """
    data = record.to_dict() if isinstance(record, RunRecord) else dict(record)
    if fmt == "json":
        if compact:
            return json.dumps(data, ensure_ascii=False, default=str, separators=(",", ":")) + "\n"
        return json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"
    text: str = yaml.safe_dump(
        json.loads(json.dumps(data, default=str)),  # plain types only
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )
    return text


def regular_file_target(path: str | Path) -> Path:
    """Where writing ``path`` lands: the path itself, or what its symlinks point to.

    Only a regular file (or nothing yet) may be written: a FIFO, a device, a socket
    or a folder is refused with :class:`OsopError` — replacing ``/dev/full`` or a
    named pipe with a regular file is never what ``-o`` meant.
    """
    target = Path(path)
    try:
        if target.is_symlink():
            target = target.resolve()  # write what the link points to, keep the link
        mode = target.stat().st_mode
    except FileNotFoundError:
        return target
    except NotADirectoryError as exc:
        culprit = next((p for p in target.parents if p.is_file()), None)
        named = f" ({culprit})" if culprit is not None else ""
        raise OsopError(f"cannot write {path}: {exc.strerror}{named}") from exc
    except (OSError, RuntimeError) as exc:  # a symlink loop, an unreadable parent
        raise OsopError(f"cannot write {path}: {exc}") from exc
    if not stat.S_ISREG(mode):
        kind = (
            "a folder"
            if stat.S_ISDIR(mode)
            else "a named pipe"
            if stat.S_ISFIFO(mode)
            else "a device"
            if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "a socket"
            if stat.S_ISSOCK(mode)
            else "not a regular file"
        )
        raise OsopError(f"refusing to write {path}: it is {kind}, not a regular file")
    return target


def atomic_write_text(
    path: str | Path, text: str | Iterable[str], *, create_parents: bool = False
) -> None:
    """Replace ``path`` with ``text`` so that readers see the old or the new file, never a mix.

    ``text`` may be parts, written one after the other (a large record is never
    joined into one string).

    Only regular files are written (see :func:`regular_file_target`); a missing
    folder is an error unless ``create_parents`` (the caller owns that folder).
    """
    target = regular_file_target(path)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        if create_parents:
            folder.mkdir(parents=True, exist_ok=True)
        elif not folder.is_dir():
            raise OsopError(f"cannot write {path}: the folder {folder} does not exist")
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
        try:
            # mkstemp creates 0600; give the file the mode a plain open() would.
            os.chmod(tmp, _mode_for(target))
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                if isinstance(text, str):
                    handle.write(text)
                else:
                    for part in text:
                        handle.write(part)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_folder(folder)
    except OSError as exc:
        raise OsopError(f"cannot write {target}: {exc}") from exc


def _mode_for(target: Path) -> int:
    """An existing file keeps its mode; a new one gets 0666 less the umask."""
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # not every platform can open a folder
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_record(
    record: RunRecord | Mapping[str, Any],
    path: str | Path,
    fmt: RecordFormat | None = None,
    *,
    compact: bool = False,
    create_parents: bool = False,
) -> Path:
    """Write ``record`` to ``path`` atomically (format from the extension unless given)."""
    target = Path(path)
    text = record_to_text(record, fmt or record_format_for(target), compact=compact)
    atomic_write_text(target, text, create_parents=create_parents)
    return target
