"""What a hub package is: a main document (``.osop`` or ``.sop``) and the files it refers to.

Shared by the client (which collects the files and hashes them) and the server
(which checks the paths and the hash again: it never trusts the client's word).
A package's paths are POSIX paths relative to the package root; a ``.sop``'s refs
are resolved against the ``.sop``'s own folder inside the package, must stay inside
it, and must be relative paths — never a URL, ``file://`` or an absolute path.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from osop.errors import OsopError
from osop.format.loader import DEFAULT_MAX_BYTES, load_path

__all__ = [
    "MAX_FILES",
    "MAX_FILE_BYTES",
    "NAME_PATTERN",
    "LocalPackage",
    "PackageError",
    "check_name",
    "check_package_path",
    "check_ref",
    "collect_package",
    "content_hash",
    "file_digest",
    "is_sop_path",
    "parse_semver",
    "resolve_ref",
    "semver_key",
]

#: Owner and package names: lower-case letters, digits and dashes (like npm scopes).
NAME_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"
_NAME = re.compile(NAME_PATTERN)
#: semver.org 2.0.0, the official regular expression.
_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")

MAX_FILE_BYTES = DEFAULT_MAX_BYTES
#: A collection with more workflows than this is not one process handbook.
MAX_FILES = 200


class PackageError(OsopError):
    """A package that cannot be published or pulled as it is (the message says why)."""


def check_name(kind: str, value: str) -> str:
    if not _NAME.match(value):
        raise PackageError(
            f"{kind} {value!r} is not a valid name: use lower-case letters, digits and "
            "dashes (1-63 characters, not starting or ending with a dash)"
        )
    return value


def parse_semver(version: str) -> tuple[int, int, int, str]:
    """``1.2.3-rc.1`` → ``(1, 2, 3, "rc.1")``; anything that is not semver is refused."""
    match = _SEMVER.match(version)
    if match is None:
        raise PackageError(f"version {version!r} is not a semantic version (like 1.0.0)")
    return int(match[1]), int(match[2]), int(match[3]), match[4] or ""


def semver_key(version: str) -> tuple[int, int, int, int, str]:
    """Sort key: releases after their pre-releases (``1.0.0-rc.1`` < ``1.0.0``)."""
    major, minor, patch, pre = parse_semver(version)
    return major, minor, patch, 0 if pre else 1, pre


def file_digest(content: str) -> str:
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def content_hash(files: Mapping[str, str]) -> str:
    """One hash over every path and file digest, in path order (``sha256:…``)."""
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(f"{path}\0{file_digest(files[path])}\n".encode())
    return "sha256:" + digest.hexdigest()


def is_sop_path(path: str) -> bool:
    return path.lower().endswith(".sop") or posixpath.basename(path) == "sop"


def check_package_path(path: str) -> str:
    """A safe, normalised relative POSIX path inside the package, or :class:`PackageError`."""
    if not path or "\\" in path or "\0" in path or _SCHEME.match(path) or path.startswith("/"):
        raise PackageError(f"file path {path!r} must be a relative path inside the package")
    norm = posixpath.normpath(path)
    if norm != path or norm == "." or norm.startswith("../") or norm == "..":
        raise PackageError(f"file path {path!r} must be a normalised path inside the package")
    if any(part.startswith(".") and part not in {".sop"} for part in norm.split("/")):
        raise PackageError(f"file path {path!r} must not contain hidden parts")
    return norm


def check_ref(ref: str) -> None:
    """Refuse refs that would reach outside a package: other hosts, ``file://``, absolute."""
    if _SCHEME.match(ref) or ref.startswith("//"):
        raise PackageError(
            f"ref {ref!r} points outside the package (a URL); "
            "a published .sop may only refer to workflows it contains"
        )
    if ref.startswith("/") or "\\" in ref:
        raise PackageError(f"ref {ref!r} is an absolute path; use a path relative to the .sop")


def resolve_ref(main: str, ref: str) -> str:
    """The package path a ``.sop`` at ``main`` means by ``ref`` (relative to its folder)."""
    check_ref(ref)
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(main), ref))
    if joined == ".." or joined.startswith("../"):
        raise PackageError(f"ref {ref!r} leads outside the package root")
    return joined


def sop_refs(data: Any) -> list[str]:
    """Every ``ref`` (or ``path``) of a ``.sop``'s entries, in document order."""
    from osop.format.sop import sop_from_dict

    if not isinstance(data, Mapping):
        return []
    sop = sop_from_dict(data)
    return [e.ref for s in sop.sections for e in s.entries if e.ref is not None]


@dataclass(slots=True)
class LocalPackage:
    """A package read from disk: the main document's package path and every file's text."""

    main: str
    files: dict[str, str]
    missing: list[str] = field(default_factory=list)

    @property
    def content_hash(self) -> str:
        return content_hash(self.files)


def _read_text(path: Path) -> str:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise PackageError(f"{path}: {size} bytes is over the {MAX_FILE_BYTES}-byte file limit")
    return path.read_text(encoding="utf-8")


def collect_package(source: str | Path) -> LocalPackage:
    """Read a ``.osop`` or a ``.sop`` and the workflows it refers to.

    The package root is the deepest folder holding the document and every ref, so a
    ``.sop`` whose refs go ``../other/`` keeps that layout when pulled.  Refs that are
    URLs or absolute paths are refused; refs to files that do not exist are reported
    in ``missing`` (the validator warns about them too).
    """
    main_path = Path(source).resolve()
    if not main_path.is_file():
        raise PackageError(f"{source}: no such file")
    doc = load_path(main_path)
    paths = [main_path]
    missing: list[str] = []
    if doc.kind == "sop":
        for ref in dict.fromkeys(sop_refs(doc.data)):
            check_ref(ref)
            target = (main_path.parent / ref).resolve()
            if target.is_file():
                paths.append(target)
            else:
                missing.append(ref)
    if len(paths) > MAX_FILES:
        raise PackageError(f"{source}: {len(paths)} files is over the {MAX_FILES}-file limit")
    root = Path(posixpath.commonpath([p.parent.as_posix() for p in paths]))
    files = {p.relative_to(root).as_posix(): _read_text(p) for p in paths}
    main = main_path.relative_to(root).as_posix()
    for path in files:
        check_package_path(path)
    return LocalPackage(main=main, files=files, missing=missing)
