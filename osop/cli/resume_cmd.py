"""``osop resume``: continue a paused or interrupted run from its exact frontier."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from osop.cli.common import handle_errors, max_bytes_option
from osop.cli.otel_support import close_telemetry, telemetry_for
from osop.cli.run_cmd import collect_answers, secret_store
from osop.cli.run_support import (
    finish,
    open_store,
    progress_sink,
    run_engine,
    session_options,
    usage_exit,
)
from osop.cli.temporal_support import follow_temporal_run, temporal_options
from osop.engine import RunOptions, resume_run
from osop.engine.answers import check_preset_answers
from osop.engine.values import Redactor
from osop.errors import LoadError, RunRefusedError
from osop.telemetry import tracing_observer

__all__ = ["resume"]


@click.command()
@click.argument("run_id")
@session_options
@max_bytes_option
@temporal_options
@handle_errors
def resume(
    run_id: str,
    answers_file: Path | None,
    secrets_file: Path | None,
    log_path: Path | None,
    auto_approve: bool,
    json_lines: bool,
    quiet: bool,
    report_path: Path | None,
    store_dir: Path | None,
    otel: bool = False,
    temporal: Any = None,
) -> None:
    """Continue RUN_ID (an id or a unique prefix): completed nodes are not run again.

    A node that was running when the process died runs again as a new attempt.
    Exit codes as for `osop run`.  A run on Temporal (--temporal) goes on by itself
    once it is answered: resume waits until it ends or pauses again.
    """
    if temporal is not None:
        if answers_file is not None or secrets_file is not None or auto_approve:
            raise click.UsageError(
                "a run on Temporal takes answers with `osop approve --temporal`; "
                "--answers, --secrets-file and --yes apply to local runs"
            )
        follow_temporal_run(
            temporal, run_id, log_path=log_path, json_lines=json_lines, report_path=report_path
        )
        return
    store = open_store(store_dir)
    handle = store.get(run_id)
    answers = collect_answers(answers_file)
    if answers:
        _check_answers(handle.workflow_path, answers)
    for node, answer in answers.items():
        handle.post("answer", node=node, answer=Redactor()(answer))
    telemetry = telemetry_for(otel, None)
    options = RunOptions(
        observers=[tracing_observer(telemetry)] if telemetry is not None else [],
        secrets=secret_store(secrets_file),
        progress=progress_sink(json_lines, quiet),
        interactive=sys.stdin.isatty() and not json_lines,
        auto_approve=auto_approve,
    )
    result = run_engine(resume_run(handle.run_id, store=store, options=options))
    close_telemetry(telemetry)
    finish(result, log_path=log_path, json_lines=json_lines, report_path=report_path)


def _check_answers(workflow_path: Path, answers: dict[str, dict[str, Any]]) -> None:
    """A decision the run's nodes do not allow is refused before anything is delivered."""
    from osop.format.loader import load_path
    from osop.format.workflow import workflow_from_dict

    try:
        workflow = workflow_from_dict(load_path(workflow_path, max_bytes=None).data)
    except (LoadError, OSError):
        return  # resume itself says what is wrong with the run's workflow copy
    try:
        check_preset_answers(workflow, answers)
    except RunRefusedError as exc:
        usage_exit(str(exc))
