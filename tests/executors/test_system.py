from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from osop.executors.base import NodeFailure, NodeResult
from osop.executors.system import SystemExecutor

from .helpers import make_ctx, run


def op(runtime: dict[str, Any], workdir: Path, **kw: Any) -> NodeResult:
    node = {"id": "fs", "type": "system", "runtime": runtime}
    return run(SystemExecutor().execute(make_ctx(node, workdir, **kw)))


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    root = tmp_path / "work"
    root.mkdir()
    return root


def test_write_read_append(workdir: Path) -> None:
    assert op(
        {"operation": "write_file", "path": "out/a.txt", "content": "one\n"}, workdir
    ).outputs == {
        "path": "out/a.txt",
        "bytes_written": 4,
    }
    op({"operation": "append_file", "path": "out/a.txt", "content": "two\n"}, workdir)
    result = op({"operation": "read_file", "path": "out/a.txt", "format": "lines"}, workdir)
    assert result.outputs["content"] == ["one", "two"]


def test_write_structured_content_as_json_and_read_back(workdir: Path) -> None:
    op({"operation": "write_file", "path": "d.json", "content": {"k": [1, 2]}}, workdir)
    result = op({"operation": "read_file", "path": "d.json", "format": "json"}, workdir)
    assert result.outputs["content"] == {"k": [1, 2]}


def test_copy_move_exists_list_checksum_mkdir(workdir: Path) -> None:
    (workdir / "src.txt").write_text("data")
    op({"operation": "copy", "source": "src.txt", "destination": "copy.txt"}, workdir)
    op({"operation": "move", "source": "copy.txt", "destination": "moved/x.txt"}, workdir)
    assert op({"operation": "exists", "path": "copy.txt"}, workdir).outputs["exists"] is False
    exists = op({"operation": "exists", "path": "moved/x.txt"}, workdir).outputs
    assert exists["exists"] and exists["is_file"] and not exists["is_dir"]
    listing = op({"operation": "list_dir", "path": ".", "pattern": "*.txt"}, workdir).outputs
    assert listing["entries"] == ["src.txt"] and listing["count"] == 1
    checksum = op({"operation": "checksum", "path": "src.txt"}, workdir).outputs["checksum"]
    assert checksum == hashlib.sha256(b"data").hexdigest()
    assert op({"operation": "mkdir", "path": "a/b"}, workdir).outputs["created"] is True
    assert op({"operation": "mkdir", "path": "a/b"}, workdir).outputs["created"] is False


def test_delete_inside_workdir(workdir: Path) -> None:
    (workdir / "tree" / "sub").mkdir(parents=True)
    assert op({"operation": "delete", "path": "tree"}, workdir).outputs["deleted"] is True
    assert not (workdir / "tree").exists()
    assert op({"operation": "delete", "path": "tree"}, workdir).outputs["deleted"] is False
    with pytest.raises(NodeFailure) as info:
        op({"operation": "delete", "path": "tree", "missing_ok": False}, workdir)
    assert info.value.code == "FILE_NOT_FOUND"


@pytest.mark.parametrize("path", ["../outside.txt", "/etc/hostname", "sub/../../x"])
def test_paths_outside_workdir_are_refused(workdir: Path, path: str) -> None:
    with pytest.raises(NodeFailure) as info:
        op({"operation": "read_file", "path": path}, workdir)
    assert info.value.code == "OUTSIDE_WORKDIR"
    assert info.value.retryable is False


def test_symlink_escape_is_refused(workdir: Path, tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("s")
    (workdir / "link").symlink_to(tmp_path / "secret.txt")
    with pytest.raises(NodeFailure) as info:
        op({"operation": "read_file", "path": "link"}, workdir)
    assert info.value.code == "OUTSIDE_WORKDIR"


def test_outside_allowed_but_delete_needs_approval(workdir: Path, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.txt"
    target.write_text("x")
    runtime = {"operation": "read_file", "path": str(target), "allow_outside_workdir": True}
    assert op(runtime, workdir).outputs["content"] == "x"
    runtime = {"operation": "delete", "path": str(target), "allow_outside_workdir": True}
    with pytest.raises(NodeFailure) as info:
        op(runtime, workdir)
    assert info.value.code == "NEEDS_APPROVAL"
    assert "delete-outside-workdir" in info.value.message
    assert target.exists()
    op(runtime, workdir, answer={"approved": True})
    assert not target.exists()


def test_refuses_to_delete_the_workdir(workdir: Path) -> None:
    with pytest.raises(NodeFailure) as info:
        op({"operation": "delete", "path": "."}, workdir)
    assert info.value.code == "BAD_RUNTIME"
    assert workdir.exists()


def test_read_limits_and_errors(workdir: Path) -> None:
    (workdir / "big.txt").write_text("x" * 3000)
    with pytest.raises(NodeFailure) as info:
        op({"operation": "read_file", "path": "big.txt", "max_kb": 1}, workdir)
    assert info.value.code == "FILE_TOO_LARGE"
    with pytest.raises(NodeFailure) as info:
        op({"operation": "read_file", "path": "none.txt"}, workdir)
    assert info.value.code == "FILE_NOT_FOUND"


def test_process_delegates_to_cli(workdir: Path) -> None:
    result = op({"operation": "process", "command": "echo hi"}, workdir)
    assert result.outputs["stdout"] == "hi"


def test_unknown_operation(workdir: Path) -> None:
    with pytest.raises(NodeFailure) as info:
        op({"tool": "pagerduty"}, workdir)
    assert info.value.code == "NO_OPERATION"


@pytest.mark.parametrize(
    ("runtime_of", "rule"),
    [
        (
            lambda out, inside: {"operation": "write_file", "path": str(out), "content": "x"},
            "write",
        ),
        (
            lambda out, inside: {"operation": "append_file", "path": str(out), "content": "x"},
            "write",
        ),
        (lambda out, inside: {"operation": "mkdir", "path": str(out.parent / "d")}, "write"),
        (
            lambda out, inside: {
                "operation": "copy",
                "source": str(inside),
                "destination": str(out),
            },
            "write",
        ),
        (
            lambda out, inside: {
                "operation": "move",
                "source": str(inside),
                "destination": str(out),
            },
            "write",
        ),
        (
            lambda out, inside: {
                "operation": "move",
                "source": str(out),
                "destination": "here.txt",
            },
            "write",
        ),
    ],
)
def test_changes_outside_the_workdir_need_approval(
    workdir: Path, tmp_path: Path, runtime_of: Any, rule: str
) -> None:
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("precious")
    inside = workdir / "mine.txt"
    inside.write_text("mine")
    runtime = {**runtime_of(outside, inside), "allow_outside_workdir": True}
    with pytest.raises(NodeFailure) as info:
        op(runtime, workdir)
    assert info.value.code == "NEEDS_APPROVAL"
    assert "write-outside-workdir" in info.value.message
    assert outside.read_text() == "precious"
    assert inside.read_text() == "mine"
    op(runtime, workdir, answer={"approved": True})


def test_system_account_files_stay_blocked(workdir: Path) -> None:
    runtime = {
        "operation": "write_file",
        "path": "/etc/passwd",
        "content": "x",
        "allow_outside_workdir": True,
    }
    with pytest.raises(NodeFailure) as info:
        op(runtime, workdir, answer={"approved": True})
    assert info.value.code == "BLOCKED"
