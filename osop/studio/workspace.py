"""The opened folder: the only files the studio may read or write.

Every path the browser sends is relative to the folder; it is resolved here and
refused when it leaves the folder (``..``, an absolute path, a symlink pointing
out), names a file the studio does not edit, or is not a regular file.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from osop.errors import OsopError
from osop.record.writer import atomic_write_text

__all__ = ["EDITABLE_SUFFIXES", "PathRefused", "Workspace", "text_sha"]

#: What the studio lists and edits (records are read through the run store).
EDITABLE_SUFFIXES = (".osop", ".osop.yaml", ".osop.yml", ".osop.json", ".sop")
#: Folders never listed (a run store, version control, dependencies).
_SKIPPED = {".git", ".osop", "node_modules", ".venv", "__pycache__"}
#: Listing stops here: a huge tree must not stall the page.
MAX_FILES = 2000


class PathRefused(OsopError):
    """A path the studio will not touch, and why."""


def text_sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def editable(name: str) -> bool:
    return name.endswith(EDITABLE_SUFFIXES)


@dataclass(frozen=True)
class Workspace:
    root: Path

    @classmethod
    def open(cls, path: Path) -> Workspace:
        root = path.resolve()
        if not root.is_dir():
            raise OsopError(f"{path}: not a folder")
        return cls(root)

    def resolve(self, relative: str, *, must_exist: bool = True) -> Path:
        """The file ``relative`` names inside the folder, or :class:`PathRefused`."""
        if not relative or "\x00" in relative or "\\" in relative:
            raise PathRefused(f"not a file path: {relative!r}")
        pure = PurePosixPath(relative)
        if pure.is_absolute() or any(part in ("..", "") for part in pure.parts):
            raise PathRefused(f"{relative!r} is outside the opened folder")
        if not editable(pure.name):
            raise PathRefused(
                f"{relative!r}: the studio edits {', '.join(EDITABLE_SUFFIXES)} files"
            )
        target = (self.root / pure).resolve()
        if not target.is_relative_to(self.root):
            raise PathRefused(f"{relative!r} is outside the opened folder")
        if must_exist and not target.is_file():
            raise PathRefused(f"{relative!r}: no such file")
        if not must_exist and target.exists() and not target.is_file():
            raise PathRefused(f"{relative!r}: not a regular file")
        return target

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def list_files(self) -> list[str]:
        found: list[str] = []
        for folder, dirs, files in os.walk(self.root):
            dirs[:] = sorted(d for d in dirs if d not in _SKIPPED and not d.startswith("."))
            for name in sorted(files):
                if not editable(name):
                    continue
                path = Path(folder) / name
                try:  # a symlink out of the folder is not listed (nor served)
                    if not path.resolve().is_relative_to(self.root):
                        continue
                except OSError:
                    continue
                found.append(self.relative(path))
                if len(found) >= MAX_FILES:
                    return found
        return found

    def read(self, relative: str) -> str:
        path = self.resolve(relative)
        try:
            return path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise OsopError(f"{relative}: cannot read: {exc}") from None

    def write(self, relative: str, text: str) -> None:
        path = self.resolve(relative, must_exist=False)
        atomic_write_text(path, text, create_parents=True)

    def create(self, relative: str, text: str) -> None:
        path = self.resolve(relative, must_exist=False)
        if path.exists():
            raise PathRefused(f"{relative!r} already exists")
        atomic_write_text(path, text, create_parents=True)
