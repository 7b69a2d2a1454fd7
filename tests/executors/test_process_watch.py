"""run_process behaves the same whichever way a child is watched: through a pidfd
read by the event loop (Linux), or asyncio's subprocess transport (elsewhere)."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from pathlib import Path

import pytest

from osop.executors import process
from osop.executors.base import NodeFailure
from osop.executors.process import run_process

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX process groups")

ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}


@pytest.fixture(params=["pidfd", "asyncio"])
def watch(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "pidfd":
        if not process._pidfd_usable():
            pytest.skip("no pidfd here")
    else:
        monkeypatch.setattr(process, "_PIDFD", [False])
    return str(request.param)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def sh(script: str, cwd: Path, **kwargs: object) -> process.ProcessResult:
    return asyncio.run(run_process(["/bin/sh", "-c", script], cwd=cwd, env=ENV, **kwargs))  # type: ignore[arg-type]


def test_output_and_exit_code(watch: str, tmp_path: Path) -> None:
    result = sh("echo out; echo err >&2; exit 3", tmp_path)
    assert (result.exit_code, result.stdout, result.stderr) == (3, "out\n", "err\n")
    assert not result.stdout_truncated and not result.stderr_truncated


def test_killed_by_a_signal(watch: str, tmp_path: Path) -> None:
    assert sh("kill -9 $$", tmp_path).exit_code == -9


def test_only_the_tail_is_kept(watch: str, tmp_path: Path) -> None:
    result = sh("seq 1 100000", tmp_path, output_limit=1000)
    assert result.stdout_truncated
    assert len(result.stdout) == 1000
    assert result.stdout.endswith("99999\n100000\n")


def test_a_background_child_is_stopped_and_the_output_kept(watch: str, tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    result = sh(f"sleep 30 & echo $! > {pidfile}; echo done", tmp_path)
    assert (result.exit_code, result.stdout) == (0, "done\n")
    assert not _alive(int(pidfile.read_text()))


def test_cancelling_stops_the_whole_group(watch: str, tmp_path: Path) -> None:
    pidfile = tmp_path / "pids"

    async def scenario() -> None:
        task = asyncio.ensure_future(
            run_process(
                ["/bin/sh", "-c", f"sleep 30 & echo $! > {pidfile}; echo $$ >> {pidfile}; wait"],
                cwd=tmp_path,
                env=ENV,
                on_start=lambda pid: asyncio.sleep(0),
            )
        )
        for _ in range(200):
            await asyncio.sleep(0.05)
            if pidfile.exists() and len(pidfile.read_text().split()) == 2:
                break
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    pids = [int(p) for p in pidfile.read_text().split()]
    assert len(pids) == 2
    assert not any(_alive(pid) for pid in pids)


def test_the_command_waits_at_the_gate_until_on_start_returns(watch: str, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    seen: list[tuple[int, bool]] = []

    async def on_start(pid: int) -> None:
        await asyncio.sleep(0.2)  # time enough for an ungated command to run
        seen.append((pid, marker.exists()))

    result = sh(f"touch {marker}; echo $$", tmp_path, on_start=on_start)
    assert result.exit_code == 0
    assert seen == [(int(result.stdout), False)]  # same pid: the gate execs the command
    assert marker.exists()


def test_without_the_go_ahead_the_command_never_runs(watch: str, tmp_path: Path) -> None:
    marker = tmp_path / "ran"

    async def on_start(pid: int) -> None:
        raise RuntimeError("the journal could not be written")

    with pytest.raises(RuntimeError, match="journal"):
        sh(f"touch {marker}", tmp_path, on_start=on_start)
    assert not marker.exists()


@pytest.mark.parametrize("gated", [False, True])
def test_a_missing_program_is_said_clearly(watch: str, tmp_path: Path, gated: bool) -> None:
    async def on_start(pid: int) -> None:
        return None

    with pytest.raises(NodeFailure) as caught:
        asyncio.run(
            run_process(
                ["no-such-program-osop"],
                cwd=tmp_path,
                env=ENV,
                on_start=on_start if gated else None,
            )
        )
    assert caught.value.code == "NO_TOOL"


def test_with_a_pidfd_no_thread_waits_for_each_child(tmp_path: Path) -> None:
    if not process._pidfd_usable():
        pytest.skip("no pidfd here")
    threads: list[int] = []

    async def on_start(pid: int) -> None:
        threads.append(threading.active_count())

    async def scenario() -> None:
        before = threading.active_count()
        await asyncio.gather(
            *(
                run_process(["/bin/sh", "-c", "true"], cwd=tmp_path, env=ENV, on_start=on_start)
                for _ in range(20)
            )
        )
        assert set(threads) == {before}

    asyncio.run(scenario())


async def _go(pid: int) -> None:
    return None


def test_a_gated_script_sees_what_sh_c_gives_it(watch: str, tmp_path: Path) -> None:
    script = 'echo "$0|$#|${osop_gate-unset}"; cat'
    plain = sh(script, tmp_path)
    gated = sh(script, tmp_path, on_start=_go)
    assert gated.stdout == plain.stdout == "/bin/sh|0|unset\n"  # stdin: /dev/null


def test_a_gated_script_with_a_syntax_error_fails_as_sh_c_does(watch: str, tmp_path: Path) -> None:
    plain = sh("echo before; if", tmp_path)
    gated = sh("echo before; if", tmp_path, on_start=_go)
    assert (gated.exit_code, gated.stdout, gated.stderr) == (
        plain.exit_code,
        plain.stdout,
        plain.stderr,
    )
    assert gated.exit_code == 2


def test_a_gated_argv_runs_behind_the_gate_shell(watch: str, tmp_path: Path) -> None:
    result = asyncio.run(
        run_process(["/bin/echo", "a b", "$HOME"], cwd=tmp_path, env=ENV, on_start=_go)
    )
    assert (result.exit_code, result.stdout) == (0, "a b $HOME\n")
