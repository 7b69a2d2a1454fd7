"""The plain `osop validate PATH...` is answered without click (osop.cli.validate_core):
its output, colours and exit status must be exactly the click command's."""

from __future__ import annotations

import io
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

from osop.cli.validate_core import _style, fast_form

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "tests" / "conformance" / "validator"
GOOD = CASES / "seed-complete-example.osop.yaml"
BAD = CASES / "edge-unknown-node.osop.yaml"
WARN = CASES / "node-missing-name.osop.yaml"
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def _osop(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-m", "osop", *args], env=ENV, cwd=ROOT, **kwargs
    )


def _both(paths: list[str]) -> tuple[subprocess.CompletedProcess[bytes], ...]:
    """The plain form (no click) and the same through click (`--format text`, the default)."""
    fast = _osop(["validate", *paths], capture_output=True)
    slow = _osop(["validate", "--format", "text", *paths], capture_output=True)
    return fast, slow


@pytest.mark.parametrize(
    "paths",
    [
        [str(GOOD)],
        [str(BAD)],
        [str(WARN)],
        [str(GOOD), str(BAD), str(WARN)],
        [str(CASES)],  # a folder
        [str(CASES / "edge-*.osop.yaml")],  # a glob
        [str(CASES / "no-such-file.osop.yaml")],  # click's usage error
        [str(CASES / "nothing-*-matches.osop")],
        [str(GOOD), str(CASES / "no-such-file.osop.yaml")],
    ],
    ids=["valid", "invalid", "warning", "three", "folder", "glob", "missing", "no-match", "late"],
)
def test_the_plain_form_prints_what_the_click_command_prints(paths: list[str]) -> None:
    fast, slow = _both(paths)
    assert (fast.returncode, fast.stdout, fast.stderr) == (
        slow.returncode,
        slow.stdout,
        slow.stderr,
    )
    assert fast.stdout or fast.stderr


def test_an_empty_folder_is_the_click_usage_error(tmp_path: Path) -> None:
    fast, slow = _both([str(tmp_path)])
    assert fast.returncode == slow.returncode == 2
    assert fast.stderr == slow.stderr
    assert b"no OSOP documents found" in fast.stderr


def test_escape_codes_are_stripped_as_click_strips_them(tmp_path: Path) -> None:
    odd = tmp_path / "odd\x1b[31mname.osop.yaml"
    shutil.copy(BAD, odd)
    fast, slow = _both([str(odd)])
    assert (fast.returncode, fast.stdout) == (slow.returncode, slow.stdout)
    assert b"\x1b" not in fast.stdout


def _on_a_terminal(args: list[str]) -> bytes:
    leader, follower = pty.openpty()
    try:
        done = _osop(args, stdout=follower, stderr=subprocess.PIPE, timeout=120)
        assert not done.stderr
        os.close(follower)
        follower = -1
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal's other side is closed: all read
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(leader)
        if follower >= 0:
            os.close(follower)


def test_colours_on_a_terminal_are_the_click_command_colours() -> None:
    paths = [str(GOOD), str(BAD), str(WARN)]
    fast = _on_a_terminal(["validate", *paths])
    slow = _on_a_terminal(["validate", "--format", "text", *paths])
    assert fast == slow
    assert b"\x1b[31m" in fast and b"\x1b[1m" in fast  # errors red, summaries bold


@pytest.mark.parametrize("fg", ["red", "yellow", "blue", None])
@pytest.mark.parametrize("bold", [True, False, None])
def test_style_is_click_style(fg: str | None, bold: bool | None) -> None:
    assert _style("a line", fg=fg, bold=bold) == click.style("a line", fg=fg, bold=bold)


@pytest.mark.parametrize(
    ("args", "plain"),
    [
        (["validate", "a.osop"], True),
        (["validate", "a.osop", "b/"], True),
        (["validate"], False),
        (["validate", "-"], False),  # stdin
        (["validate", "--strict", "a.osop"], False),
        (["validate", "a.osop", "-q"], False),
        (["validate", ""], False),
        (["run", "a.osop"], False),
    ],
)
def test_only_the_plain_form_skips_click(
    args: list[str], plain: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(io.BytesIO(), encoding="utf-8"))
    monkeypatch.delenv("_OSOP_COMPLETE", raising=False)
    assert fast_form(args) is plain


def test_completion_and_odd_stdouts_go_through_click(monkeypatch: pytest.MonkeyPatch) -> None:
    args = ["validate", "a.osop"]
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(io.BytesIO(), encoding="ascii"))
    assert not fast_form(args)  # click re-wraps an ASCII stdout
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert not fast_form(args)
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(io.BytesIO(), encoding="utf-8"))
    assert fast_form(args)
    monkeypatch.setenv("_OSOP_COMPLETE", "bash_complete")
    assert not fast_form(args)


def test_ctrl_c_is_aborted_as_click_says_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from osop.cli import validate_core
    from osop.cli.main import main

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(validate_core, "validate_path", interrupted)
    seen = []
    for args in (["validate", str(GOOD)], ["validate", "--format", "text", str(GOOD)]):
        with pytest.raises(SystemExit) as exit_:
            main(args)
        seen.append((exit_.value.code, *capsys.readouterr()))
    assert seen[0] == seen[1] == (1, "", "\nAborted!\n")
