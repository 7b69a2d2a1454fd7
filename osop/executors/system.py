"""The ``system`` executor: file operations confined to the run's workdir, and processes.

``runtime.operation``:

========== ============================== =========================================
operation  fields                         outputs
========== ============================== =========================================
read_file  path, format (text/json/lines) content, size, path
write_file path, content (non-strings are path, bytes_written
           written as JSON)
append_file path, content                 path, bytes_written
copy       source, destination            source, destination
move       source, destination            source, destination
delete     path, missing_ok (true)        path, deleted
mkdir      path                           path, created
exists     path                           path, exists, is_file, is_dir
list_dir   path (default .), pattern      path, entries (sorted names), count
checksum   path, algorithm (sha256)       path, algorithm, checksum
process    command (as a cli node)        as a cli node
========== ============================== =========================================

Relative paths are relative to the workdir; a path that resolves (symlinks
included) outside it fails with ``OUTSIDE_WORKDIR`` unless the node sets
``runtime.allow_outside_workdir: true``; even then, changing anything outside
the workdir (write, append, copy or move to, move away, mkdir, delete) is
dangerous and needs an approval like a dangerous command, and writing a system
account file (``/etc/passwd`` ...) is blocked.
Failures: ``FILE_NOT_FOUND``, ``PERMISSION_DENIED``, ``FILE_ERROR``,
``FILE_TOO_LARGE`` (read_file over ``max_kb``, default 1024), ``NO_OPERATION``.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

from osop.executors.approval import enforce, subject_of
from osop.executors.base import NodeContext, NodeFailure, NodeResult
from osop.executors.cli import CliExecutor
from osop.security import Classification, Reason

__all__ = ["OPERATIONS", "SystemExecutor"]

DEFAULT_MAX_KB: Final = 1024


def _resolve(ctx: NodeContext, value: Any, field: str) -> Path:
    if not isinstance(value, str) or not value:
        raise NodeFailure("BAD_RUNTIME", f"runtime.{field} is required", retryable=False)
    root = ctx.workdir.resolve()
    path = Path(value).expanduser()
    path = (path if path.is_absolute() else root / path).resolve()
    if not path.is_relative_to(root) and ctx.runtime.get("allow_outside_workdir") is not True:
        raise NodeFailure(
            "OUTSIDE_WORKDIR",
            f"{value!r} is outside the workdir {str(root)!r} "
            "(set runtime.allow_outside_workdir: true to allow it)",
            retryable=False,
        )
    return path


def _inside(ctx: NodeContext, path: Path) -> bool:
    return path.is_relative_to(ctx.workdir.resolve())


_PROTECTED: Final = frozenset(
    {"/etc/passwd", "/etc/shadow", "/etc/group", "/etc/gshadow", "/etc/sudoers"}
)


def _guard_change(ctx: NodeContext, path: Path, what: str, log: list[str]) -> None:
    """A change outside the workdir (allowed by the node) still needs an approval.

    Writing, moving or deleting outside the run's folder can destroy anything the
    process may touch; the system files a shell rule blocks stay blocked here too.
    """
    if _inside(ctx, path):
        return
    shown = str(path)
    if shown in _PROTECTED or shown.startswith("/etc/sudoers.d/"):
        reason = Reason("system-file-write", "blocked", shown)
    elif what == "delete":
        reason = Reason("delete-outside-workdir", "dangerous", shown)
    else:
        reason = Reason("write-outside-workdir", "dangerous", f"{what} {shown}")
    log += enforce(ctx, Classification.of([reason]), f"{what} {shown!r}", subject_of(what, shown))


def _shown(ctx: NodeContext, path: Path) -> str:
    return str(path.relative_to(ctx.workdir.resolve())) if _inside(ctx, path) else str(path)


def _read(ctx: NodeContext, rt: Mapping[str, Any]) -> dict[str, Any]:
    path = _resolve(ctx, rt.get("path"), "path")
    max_kb = rt.get("max_kb", DEFAULT_MAX_KB)
    limit = int(max_kb * 1024) if isinstance(max_kb, int | float) and max_kb > 0 else 1 << 20
    if path.is_file() and path.stat().st_size > limit:
        raise NodeFailure(
            "FILE_TOO_LARGE", f"{_shown(ctx, path)} is larger than {limit} bytes", retryable=False
        )
    text = path.read_text(encoding=str(rt.get("encoding", "utf-8")))
    fmt = str(rt.get("format", "text"))
    content: Any = text
    if fmt == "json":
        try:
            content = json.loads(text)
        except ValueError as exc:
            raise NodeFailure(
                "BAD_DATA", f"{_shown(ctx, path)}: not JSON: {exc}", retryable=False
            ) from exc
    elif fmt == "lines":
        content = text.splitlines()
    return {"content": content, "size": len(text), "path": _shown(ctx, path)}


def _write(ctx: NodeContext, rt: Mapping[str, Any], mode: str, log: list[str]) -> dict[str, Any]:
    path = _resolve(ctx, rt.get("path"), "path")
    _guard_change(ctx, path, "writing" if mode == "w" else "appending to", log)
    content = rt.get("content", "")
    text = content if isinstance(content, str) else json.dumps(content, indent=2)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open(mode, encoding=str(rt.get("encoding", "utf-8"))) as handle:
        written = handle.write(text)
    return {"path": _shown(ctx, path), "bytes_written": written}


def _copy(ctx: NodeContext, rt: Mapping[str, Any], move: bool, log: list[str]) -> dict[str, Any]:
    source = _resolve(ctx, rt.get("source", rt.get("src")), "source")
    destination = _resolve(ctx, rt.get("destination", rt.get("dest")), "destination")
    if move:
        _guard_change(ctx, source, "moving away", log)
    _guard_change(ctx, destination, "moving to" if move else "copying to", log)
    if not source.exists():
        raise FileNotFoundError(2, "No such file or directory", str(source))
    destination.parent.mkdir(parents=True, exist_ok=True)
    if move:
        shutil.move(str(source), str(destination))
    elif source.is_dir():
        shutil.copytree(source, destination, dirs_exist_ok=True)
    else:
        shutil.copy2(source, destination)
    return {"source": _shown(ctx, source), "destination": _shown(ctx, destination)}


def _delete(ctx: NodeContext, rt: Mapping[str, Any], log: list[str]) -> dict[str, Any]:
    path = _resolve(ctx, rt.get("path"), "path")
    if path == ctx.workdir.resolve():
        raise NodeFailure("BAD_RUNTIME", "refusing to delete the workdir itself", retryable=False)
    _guard_change(ctx, path, "delete", log)
    if not path.exists() and not path.is_symlink():
        if rt.get("missing_ok", True) is False:
            raise FileNotFoundError(2, "No such file or directory", str(path))
        return {"path": _shown(ctx, path), "deleted": False}
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()
    return {"path": _shown(ctx, path), "deleted": True}


def _mkdir(ctx: NodeContext, rt: Mapping[str, Any], log: list[str]) -> dict[str, Any]:
    path = _resolve(ctx, rt.get("path"), "path")
    _guard_change(ctx, path, "creating", log)
    created = not path.exists()
    path.mkdir(parents=True, exist_ok=True)
    return {"path": _shown(ctx, path), "created": created}


def _exists(ctx: NodeContext, rt: Mapping[str, Any]) -> dict[str, Any]:
    path = _resolve(ctx, rt.get("path"), "path")
    return {
        "path": _shown(ctx, path),
        "exists": path.exists(),
        "is_file": path.is_file(),
        "is_dir": path.is_dir(),
    }


def _list_dir(ctx: NodeContext, rt: Mapping[str, Any]) -> dict[str, Any]:
    path = _resolve(ctx, rt.get("path") or ".", "path")
    pattern = str(rt.get("pattern") or "*")
    entries = sorted(p.name for p in path.iterdir() if fnmatch.fnmatch(p.name, pattern))
    return {"path": _shown(ctx, path) or ".", "entries": entries, "count": len(entries)}


def _checksum(ctx: NodeContext, rt: Mapping[str, Any]) -> dict[str, Any]:
    path = _resolve(ctx, rt.get("path"), "path")
    algorithm = str(rt.get("algorithm", "sha256")).lower()
    if algorithm not in hashlib.algorithms_guaranteed:
        raise NodeFailure(
            "BAD_RUNTIME", f"unknown checksum algorithm {algorithm!r}", retryable=False
        )
    digest = hashlib.new(algorithm)
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            digest.update(chunk)
    return {"path": _shown(ctx, path), "algorithm": algorithm, "checksum": digest.hexdigest()}


_FileOp = Callable[[NodeContext, Mapping[str, Any], list[str]], dict[str, Any]]
OPERATIONS: Final[dict[str, _FileOp]] = {
    "read_file": lambda ctx, rt, log: _read(ctx, rt),
    "write_file": lambda ctx, rt, log: _write(ctx, rt, "w", log),
    "append_file": lambda ctx, rt, log: _write(ctx, rt, "a", log),
    "copy": lambda ctx, rt, log: _copy(ctx, rt, False, log),
    "move": lambda ctx, rt, log: _copy(ctx, rt, True, log),
    "delete": _delete,
    "mkdir": _mkdir,
    "exists": lambda ctx, rt, log: _exists(ctx, rt),
    "list_dir": lambda ctx, rt, log: _list_dir(ctx, rt),
    "checksum": lambda ctx, rt, log: _checksum(ctx, rt),
}


class SystemExecutor:
    node_type = "system"

    async def execute(self, ctx: NodeContext) -> NodeResult:
        rt = ctx.runtime
        operation = rt.get("operation", rt.get("action"))
        if operation in ("process", "run") or (operation is None and "command" in rt):
            return await CliExecutor().execute(ctx)
        handler = OPERATIONS.get(str(operation))
        if handler is None:
            known = ", ".join([*OPERATIONS, "process"])
            problem = (
                "has no runtime.operation"
                if operation is None
                else f"has an unknown runtime.operation {operation!r}"
            )
            raise NodeFailure(
                "NO_OPERATION",
                f"system node {ctx.node.id!r} {problem} (one of {known})",
                retryable=False,
            )
        log: list[str] = []
        try:
            outputs = handler(ctx, rt, log)
        except FileNotFoundError as exc:
            raise NodeFailure(
                "FILE_NOT_FOUND", f"{operation}: no such file: {exc.filename}", retryable=False
            ) from exc
        except PermissionError as exc:
            raise NodeFailure(
                "PERMISSION_DENIED",
                f"{operation}: permission denied: {exc.filename}",
                retryable=False,
            ) from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise NodeFailure("FILE_ERROR", f"{operation}: {exc}") from exc
        return NodeResult(outputs=outputs, log=log)
