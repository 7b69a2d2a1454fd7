"""The ``cli`` executor: run a command, capture its output, judge its exit code.

Runtime fields: ``command`` (string → run by ``/bin/sh -c``; list → argv, no
shell), ``shell`` (``true``/a shell path or name such as ``bash`` forces a
shell, ``false`` splits a string with ``shlex`` and runs it without one),
``working_dir`` (relative to the run's workdir), ``environment``/``env``
(merged over the run's environment), ``success_codes`` (default ``[0]``),
``max_output_kb`` (tail kept per stream, default 256).

Outputs: a JSON object printed on stdout becomes the outputs (plus
``exit_code``); otherwise ``{stdout, stderr, exit_code}`` with the trailing
newline removed, as ``$(...)`` does.  A non-success exit fails with
``EXIT_<n>`` (``SIGNAL_<n>`` when killed by a signal) and the stderr tail.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from osop.executors.approval import enforce, subject_of
from osop.executors.base import NodeContext, NodeFailure, NodeResult
from osop.executors.process import DEFAULT_OUTPUT_LIMIT, ProcessResult, run_process
from osop.security import Classification, Redactor, classify_command

__all__ = [
    "CliExecutor",
    "build_argv",
    "child_env",
    "outputs_from",
    "resolve_workdir",
    "run_command",
]

#: Variables taken from this process when the run's environment lacks them,
#: so ordinary tools (and ``/bin/sh`` itself) work.
_INHERITED: Final = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER", "SYSTEMROOT")
_LOG_LINES: Final = 200


def child_env(ctx: NodeContext, extra: Any) -> dict[str, str]:
    environ = os.environ
    env = {k: v for k in _INHERITED if (v := environ.get(k)) is not None}
    env.update({str(k): str(v) for k, v in ctx.env.items()})
    if isinstance(extra, Mapping):
        env.update({str(k): "" if v is None else str(v) for k, v in extra.items()})
    return env


def resolve_workdir(ctx: NodeContext, value: Any) -> Path:
    if value in (None, ""):
        return ctx.workdir
    path = Path(str(value)).expanduser()
    path = path if path.is_absolute() else ctx.workdir / path
    if not path.is_dir():
        raise NodeFailure(
            "NO_WORKDIR", f"working_dir {str(path)!r} is not a directory", retryable=False
        )
    return path


def build_argv(command: Any, shell: Any) -> list[str]:
    """The argv that runs ``command`` per the ``shell`` setting."""
    if isinstance(command, list | tuple):
        words = [str(w) for w in command]
        if shell in (None, False):
            return words
        command = shlex.join(words)
    if not isinstance(command, str) or not command.strip():
        raise NodeFailure("NO_COMMAND", "runtime.command is missing or empty", retryable=False)
    if shell is False:
        try:
            return shlex.split(command)
        except ValueError as exc:
            raise NodeFailure(
                "BAD_COMMAND", f"cannot split command: {exc}", retryable=False
            ) from exc
    program = "/bin/sh" if shell in (None, True) else str(shell)
    return [program, "-c", command]


def _success_codes(value: Any) -> set[int]:
    if isinstance(value, int) and not isinstance(value, bool):
        return {value}
    if isinstance(value, list) and value:
        codes = {int(v) for v in value if isinstance(v, int | str) and str(v).lstrip("-").isdigit()}
        return codes or {0}
    return {0}


def outputs_from(result: ProcessResult) -> dict[str, Any]:
    """A JSON object on stdout becomes the outputs; otherwise stdout/stderr/exit_code."""
    text = result.stdout.strip()
    if text.startswith("{") and not result.stdout_truncated:
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            return {**parsed, "exit_code": result.exit_code}
    outputs: dict[str, Any] = {
        "stdout": result.stdout.rstrip("\n"),
        "stderr": result.stderr.rstrip("\n"),
        "exit_code": result.exit_code,
    }
    if result.stdout_truncated:
        outputs["stdout_truncated"] = True
    if result.stderr_truncated:
        outputs["stderr_truncated"] = True
    return outputs


def log_lines(result: ProcessResult, redactor: Redactor) -> list[str]:
    lines = result.stdout.splitlines()[-_LOG_LINES:]
    lines += ["stderr: " + line for line in result.stderr.splitlines()[-_LOG_LINES:]]
    if result.stdout_truncated or result.stderr_truncated:
        lines.insert(0, "(output truncated: only the tail was kept)")
    return [redactor.text(line) for line in lines]


#: Recent classifications: a fan-out or a loop runs one command many times, and
#: classifying it parses the shell text (~85 µs even for ``true``; a 200-wide
#: fan-out of it, bench/bench_engine.py).  Keyed by all it reads: the command,
#: the environment and, when that lacks HOME, this process's HOME.
_CLASSIFIED: dict[tuple[Any, ...], Classification] = {}
_CLASSIFIED_MAX: Final = 256
#: The one variable that differs between attempts of the same command.
_TOKEN: Final = "OSOP_ATTEMPT"


def _classified(command: str | Sequence[str], environment: Mapping[str, str]) -> Classification:
    """``classify_command(command, env=environment)``, remembered for repeats."""
    if _TOKEN in environment:
        # The attempt's token is left out of the key, so the command and the other
        # variables must not be able to reach it.
        texts = [command] if isinstance(command, str) else list(command)
        if any(_TOKEN in text for text in (*texts, *environment.values())):
            return classify_command(command, env=environment)
    key = (
        command if isinstance(command, str) else tuple(command),
        frozenset(item for item in environment.items() if item[0] != _TOKEN),
        None if "HOME" in environment else os.environ.get("HOME"),
    )
    found = _CLASSIFIED.get(key)
    if found is None:
        found = classify_command(command, env=environment)
        if len(_CLASSIFIED) >= _CLASSIFIED_MAX:
            _CLASSIFIED.clear()
        _CLASSIFIED[key] = found
    return found


def _failure_code(exit_code: int) -> str:
    return f"SIGNAL_{-exit_code}" if exit_code < 0 else f"EXIT_{exit_code}"


async def run_command(
    ctx: NodeContext,
    command: str | Sequence[str],
    *,
    shell: Any = None,
    working_dir: Any = None,
    env: Any = None,
    success_codes: Any = None,
    max_output_kb: Any = None,
    what: str = "command",
    check_risk: bool = True,
) -> NodeResult:
    """Run one command the way a ``cli`` node does (shared by git/docker/system ...)."""
    argv = build_argv(command, shell)
    environment = child_env(ctx, env)
    log: list[str] = []
    if check_risk:
        # Classified with the environment it runs with: ``$CMD`` is what CMD holds
        # (an input passed through ``runtime.env`` is seen, not waved through).
        classification = _classified(command, environment)
        log += enforce(ctx, classification, what, subject_of(what, argv))
    limit = DEFAULT_OUTPUT_LIMIT
    if isinstance(max_output_kb, int | float) and max_output_kb > 0:
        limit = int(max_output_kb * 1024)
    result = await run_process(
        argv,
        cwd=resolve_workdir(ctx, working_dir),
        env=environment,
        output_limit=limit,
        on_start=ctx.on_process,
    )
    redactor = Redactor(ctx.secret_values)
    log += log_lines(result, redactor)
    outputs = outputs_from(result)
    if result.exit_code not in _success_codes(success_codes):
        stderr_tail = result.stderr[-2000:]
        last = failure_line(stderr_tail) or failure_line(result.stdout[-2000:])
        message = f"{what} exited with {result.exit_code}" + (f": {last}" if last else "")
        raise NodeFailure(
            _failure_code(result.exit_code),
            redactor.text(message),
            details=redactor(
                {
                    "exit_code": result.exit_code,
                    "stderr_tail": stderr_tail,
                    "stdout_tail": result.stdout[-2000:],
                }
            ),
            outputs=outputs,
        )
    return NodeResult(outputs=outputs, log=log)


_ERROR_WORDS = re.compile(r"\b(error|fatal|failed|failure|denied|not found|no such)\b", re.I)
_LETTERS = re.compile(r"[A-Za-z]{3}")


def failure_line(text: str) -> str:
    """The line of a command's output that best says why it failed.

    The last line that names an error (``error``, ``fatal``, ``denied`` …) among the
    last twenty, else the last line with words in it — not a progress meter or a
    box-drawing frame, which is what tools often print last.
    """
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()][-20:]
    for line in reversed(lines):
        if _ERROR_WORDS.search(line):
            return line[:300]
    for line in reversed(lines):
        if _LETTERS.search(line):
            return line[:300]
    return ""


#: Marks where a ``${...}`` value goes while the command's quoting is read.
_SLOT = re.compile("\x00osop-slot-(\\d+)\x00")


def shell_quoted_command(ctx: NodeContext, resolved: str) -> str:
    """The command with every ``${...}`` value quoted for where it stands in the shell text.

    A value is data, never shell code: unquoted it becomes one ``shlex.quote``d word,
    inside ``"..."`` its ``\\ " $ `` and backquotes are escaped, inside ``'...'`` its
    ``'`` is closed and reopened.  ``runtime.quote_values: false`` keeps the old
    text pasting (for a value that is meant to be shell code).  ``resolved`` (the
    engine's plain rendering) is returned when the node has no template to re-read.
    """
    raw = ctx.node.runtime.get(
        "command", ctx.node.runtime.get("script", ctx.node.runtime.get("cmd"))
    )
    if ctx.runtime.get("quote_values") is False or ctx.resolve is None:
        return resolved
    if not isinstance(raw, str) or "${" not in raw:
        return resolved
    from osop.expr import interpolate, render_value

    values: list[str] = []
    resolve = ctx.resolve

    def slot(reference: str) -> str:
        values.append(render_value(resolve(reference)))
        return f"\x00osop-slot-{len(values) - 1}\x00"

    template = interpolate(raw, slot)
    if not isinstance(template, str):
        return resolved
    return _fill_slots(template, values)


def _fill_slots(template: str, values: list[str]) -> str:
    """Replace each slot with its value, escaped for the quoting in force at that point."""
    out: list[str] = []
    # Quoting contexts: "plain", "double", "single", "ansi" ($'...'); a $( ... ) or
    # backquote opens a new plain context inside any of them.
    stack: list[str] = ["plain"]
    i = 0
    while i < len(template):
        match = _SLOT.match(template, i)
        if match:
            out.append(_quote_for(stack[-1], values[int(match.group(1))]))
            i = match.end()
            continue
        char, context = template[i], stack[-1]
        pair = template[i : i + 2]
        out.append(char)
        i += 1
        if context == "single":
            if char == "'":
                stack.pop()
        elif context == "ansi":
            if char == "\\" and i < len(template):
                out.append(template[i])
                i += 1
            elif char == "'":
                stack.pop()
        elif char == "\\" and i < len(template) and not _SLOT.match(template, i):
            out.append(template[i])
            i += 1
        elif pair == "$(":
            out.append("(")
            i += 1
            stack.append("sub")
        elif char == ")" and context == "sub":
            stack.pop()
        elif char == "`":
            if context == "tick":
                stack.pop()
            else:
                stack.append("tick")
        elif context == "double":
            if char == '"':
                stack.pop()
        elif char == '"':
            stack.append("double")
        elif pair == "$'":
            out.append("'")
            i += 1
            stack.append("ansi")
        elif char == "'":
            stack.append("single")
    return "".join(out)


def _quote_for(context: str, value: str) -> str:
    if context == "double":
        return re.sub(r'([\\"$`])', r"\\\1", value)
    if context == "single":
        return value.replace("'", "'\\''")
    if context == "ansi":
        return value.replace("\\", "\\\\").replace("'", "\\'")
    return shlex.quote(value)


class CliExecutor:
    node_type = "cli"

    async def execute(self, ctx: NodeContext) -> NodeResult:
        rt = ctx.runtime
        command = rt.get("command", rt.get("script", rt.get("cmd")))
        if command is None:
            raise NodeFailure(
                "NO_COMMAND",
                f"cli node {ctx.node.id!r} has no runtime.command to run",
                retryable=False,
            )
        if isinstance(command, str) and rt.get("shell") is not False:
            command = shell_quoted_command(ctx, command)
        return await run_command(
            ctx,
            command if isinstance(command, list) else str(command),
            shell=rt.get("shell"),
            working_dir=rt.get("working_dir", rt.get("cwd")),
            env=rt.get("environment", rt.get("env")),
            success_codes=rt.get("success_codes"),
            max_output_kb=rt.get("max_output_kb"),
        )
