"""``osop resume``: continue a paused or interrupted run from its exact frontier."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from osop.cli.common import handle_errors
from osop.cli.otel_support import close_telemetry, telemetry_for
from osop.cli.run_cmd import collect_answers, secret_store
from osop.cli.run_support import (
    finish,
    open_store,
    progress_sink,
    run_engine,
    session_options,
)
from osop.engine import RunOptions, resume_run
from osop.engine.values import Redactor
from osop.telemetry import tracing_observer

__all__ = ["resume"]


@click.command()
@click.argument("run_id")
@session_options
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
) -> None:
    """Continue RUN_ID (an id or a unique prefix): completed nodes are not run again.

    A node that was running when the process died runs again as a new attempt.
    Exit codes as for `osop run`.
    """
    store = open_store(store_dir)
    handle = store.get(run_id)
    for node, answer in collect_answers(answers_file).items():
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
