"""``osop run``: execute a workflow (live, dry run or simulated), durably."""

from __future__ import annotations

import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import click

from osop.cli.common import handle_errors, max_bytes_option
from osop.cli.otel_support import close_telemetry, telemetry_for
from osop.cli.run_support import (
    finish,
    open_store,
    progress_sink,
    run_engine,
    session_options,
    usage_exit,
)
from osop.cli.temporal_support import run_async, temporal_options
from osop.engine import RunOptions, start_run
from osop.errors import LoadError, RunRefusedError, ValidationError
from osop.format.ports import string_typed
from osop.security import SecretStore
from osop.telemetry import tracing_observer

T = TypeVar("T")

__all__ = ["run"]


def _scalar(text: str) -> Any:
    """``--input n=3`` gives 3, ``flag=true`` gives True, ``name=x`` gives "x" (YAML 1.2 core)."""
    from osop.format.loader import parse_text

    try:
        value = parse_text(text, "--input")[0] if text.strip() else text
    except LoadError:
        return text
    return value if isinstance(value, str | int | float | bool) or value is None else text


def _mapping_file(path: Path, what: str) -> dict[str, Any]:
    from osop.format.loader import parse_text

    try:
        data = parse_text(path.read_text(encoding="utf-8"), str(path))[0]
    except (OSError, UnicodeDecodeError) as exc:
        usage_exit(f"cannot read {what} {path}: {exc}")
        raise AssertionError from exc  # unreachable: usage_exit exits
    except LoadError as exc:
        usage_exit(f"{what} {path}: {exc}")
        raise AssertionError from exc  # unreachable: usage_exit exits
    if data is None:
        return {}
    if not isinstance(data, dict):
        usage_exit(f"{what} {path} must hold a mapping")
    return dict(data)


def collect_inputs(
    pairs: tuple[str, ...], inputs_file: Path | None, as_text: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """``--inputs-file`` then ``--input`` pairs; an input declared as a string
    keeps the text as typed (``--input version=2`` is ``"2"``, not 2)."""
    inputs: dict[str, Any] = _mapping_file(inputs_file, "--inputs-file") if inputs_file else {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.UsageError(f"--input expects KEY=VALUE, got {pair!r}")
        name = key.strip()
        inputs[name] = value if name in as_text else _scalar(value)
    return inputs


def collect_answers(path: Path | None) -> dict[str, dict[str, Any]]:
    if path is None:
        return {}
    answers: dict[str, dict[str, Any]] = {}
    for node, answer in _mapping_file(path, "--answers").items():
        answers[str(node)] = dict(answer) if isinstance(answer, dict) else {"decision": answer}
    return answers


def secret_store(secrets_file: Path | None) -> SecretStore:
    return SecretStore(env_file=secrets_file) if secrets_file is not None else SecretStore()


@click.command()
@click.argument("workflow", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--input",
    "-i",
    "input_pairs",
    multiple=True,
    metavar="KEY=VALUE",
    help="A workflow input (repeatable); VALUE is read as a YAML scalar.",
)
@click.option(
    "--inputs-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A YAML/JSON mapping of inputs (--input wins).",
)
@click.option(
    "--mode",
    type=click.Choice(["live", "dry_run", "simulated"]),
    default="live",
    show_default=True,
    help="live executes; dry_run shows the path; simulated rehearses.",
)
@click.option("--seed", type=int, default=None, help="Seed for weighted edges (recorded).")
@click.option(
    "--guided",
    is_flag=True,
    help="A guided run: you (or your agent) carry out the steps; see `osop step`, `osop log`.",
)
@click.option(
    "--agent",
    "agent_name",
    default=None,
    help="Who carries out a guided run's steps (the record's runtime.agent).",
)
@session_options
@max_bytes_option
@temporal_options
@handle_errors
def run(
    workflow: Path,
    input_pairs: tuple[str, ...],
    inputs_file: Path | None,
    mode: str,
    log_path: Path | None,
    answers_file: Path | None,
    secrets_file: Path | None,
    seed: int | None,
    guided: bool,
    agent_name: str | None,
    auto_approve: bool,
    json_lines: bool,
    quiet: bool,
    report_path: Path | None,
    store_dir: Path | None,
    otel: bool = False,
    temporal: Any = None,
) -> None:
    """Run WORKFLOW and record it in the run store.

    \b
    Exit codes: 0 COMPLETED; 1 FAILED, TIMED_OUT or CANCELLED; 2 invalid workflow
    or usage; 3 paused (waiting for a human, an event or a signal: see
    `osop approve`, `osop signal`, then `osop resume`).

    \b
    --guided: the engine decides, you act. It prints the steps handed out
    (exit 3); carry each out and report it with `osop log RUN NODE --status ...`,
    or let the engine do one with `osop step RUN NODE --execute`.
    """
    from osop.format.api import load_workflow

    try:
        model = load_workflow(workflow)
    except ValidationError as exc:
        for issue in exc.issues:
            if issue.severity == "error":
                click.echo(issue.format(str(workflow)), err=True)
        usage_exit(f"{workflow} is not a valid workflow; nothing was run")
        return
    except LoadError as exc:
        usage_exit(str(exc))
        return
    inputs = collect_inputs(input_pairs, inputs_file, string_typed(model.inputs))
    if temporal is not None:
        if guided:
            usage_exit("--guided runs are local runs: --temporal hosts executed runs only")
        _run_on_temporal(
            temporal,
            model,
            workflow,
            RunOptions(
                mode=mode,  # type: ignore[arg-type]
                inputs=inputs,
                answers=collect_answers(answers_file),
                secrets=secret_store(secrets_file),
                seed=seed,
                auto_approve=auto_approve,
            ),
            log_path=log_path,
            json_lines=json_lines,
            report_path=report_path,
        )
        return
    telemetry = telemetry_for(otel, model)
    options = RunOptions(
        observers=[tracing_observer(telemetry)] if telemetry is not None else [],
        mode=mode,  # type: ignore[arg-type]
        inputs=inputs,
        answers=collect_answers(answers_file),
        secrets=secret_store(secrets_file),
        workdir=Path.cwd(),
        seed=seed,
        progress=progress_sink(json_lines, quiet),
        interactive=sys.stdin.isatty() and not json_lines,
        auto_approve=auto_approve,
    )
    if guided:
        _start_guided(model, workflow, options, store_dir, agent_name, json_lines, telemetry)
        return
    result = _started(start_run, model, workflow, store_dir, options, telemetry)
    finish(result, log_path=log_path, json_lines=json_lines, report_path=report_path)


def _started(
    starter: Callable[..., Coroutine[Any, Any, T]],
    model: Any,
    workflow: Path,
    store_dir: Path | None,
    options: RunOptions,
    telemetry: Any,
) -> T:
    """Start a run (executed or guided) in the store and carry it to its first stop."""
    try:
        result = run_engine(
            starter(
                model,
                source=workflow.read_bytes(),
                workflow_path=workflow,
                store=open_store(store_dir),
                options=options,
            )
        )
    except RunRefusedError as exc:
        # Invalid inputs, a blocked command: refused before the run store was touched.
        close_telemetry(telemetry)
        usage_exit(str(exc))
    close_telemetry(telemetry)
    return result


def _run_on_temporal(
    target: Any,
    model: Any,
    workflow: Path,
    options: RunOptions,
    *,
    log_path: Path | None,
    json_lines: bool,
    report_path: Path | None,
) -> None:
    """Start the run on Temporal, wait until it ends or pauses; same output and exit codes."""
    from osop.temporal._sdk import require_sdk

    require_sdk()
    from osop.temporal.runs import start_temporal_run, wait_for_run

    async def go() -> Any:
        # Refusals (inputs, blocked commands, secrets) come before any connection.
        run_id = await start_temporal_run(
            target, model, source=workflow.read_bytes(), options=options, workflow_path=workflow
        )
        return await wait_for_run(target, run_id)

    try:
        result = run_async(go())
    except RunRefusedError as exc:
        usage_exit(str(exc))
        return
    finish(result, log_path=log_path, json_lines=json_lines, report_path=report_path)


def _start_guided(
    model: Any,
    workflow: Path,
    options: RunOptions,
    store_dir: Path | None,
    agent_name: str | None,
    json_lines: bool,
    telemetry: Any,
) -> None:
    from dataclasses import replace

    from osop.cli.guided_cmd import print_view
    from osop.engine.guided import start_guided

    if options.mode == "dry_run":
        usage_exit("--guided runs are live or simulated: a dry run carries out nothing")
    options = replace(
        options,
        progress=None,
        interactive=False,
        agent={"agent": agent_name} if agent_name else None,
    )
    view = _started(start_guided, model, workflow, store_dir, options, telemetry)
    print_view(view, as_json=json_lines)
