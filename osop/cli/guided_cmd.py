"""``osop step`` and ``osop log``: the two faces of a guided run on the command line.

``osop run WF --guided`` starts one; ``osop step RUN`` shows the steps handed
out (``--json`` for tools), ``osop step RUN NODE --execute`` has the engine run
one with its executor, ``osop log RUN NODE --status ...`` records what the
caller did and prints what is ready next.  Thin layers over
:mod:`osop.engine.guided`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from osop.cli.common import handle_errors
from osop.cli.run_support import open_store, run_engine, store_option
from osop.engine.guided import GuidedView

__all__ = ["log", "print_view", "step"]

_TEXT_WIDTH = 200


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= _TEXT_WIDTH else text[: _TEXT_WIDTH - 1] + "…"


def print_view(view: GuidedView, *, as_json: bool) -> None:
    """Print where a guided run stands and exit with its code (3 while steps wait)."""
    if as_json:
        sys.stdout.write(json.dumps(view.to_dict(), ensure_ascii=False, default=str) + "\n")
        sys.exit(view.exit_code)
    run = view.run_id[:8]
    status = "PAUSED" if view.paused else view.status
    ready = f" — {len(view.ready)} step(s) ready" if view.ready else ""
    click.echo(f"run {view.run_id} {status}{ready}")
    for step in view.ready:
        _print_step(run, step)
    for wait in view.waiting:
        click.echo(f"  waiting: {wait['node_id']} ({wait['kind']}) — {wait.get('deliver', '')}")
        if wait.get("prompt"):
            click.echo(f"    why: {wait['prompt']}")
        click.echo(f"    then: osop step {run}")
    for note in view.notes:
        click.echo(f"note: {note}", err=True)
    if view.record_path:
        click.echo(f"  record: {view.record_path}")
    sys.exit(view.exit_code)


def _print_step(run: str, step: dict[str, Any]) -> None:
    attempt = f"attempt {step['attempt']}/{step['max_attempts']}"
    if "time_left_sec" in step:
        attempt += f", {step['time_left_sec']:g}s left"
    click.echo(f"  step {step['node_id']} [{step['type']}] {step['name']!r} ({attempt})")
    for key in ("purpose", "description", "explain", "role", "inputs", "runtime"):
        if key in step:
            click.echo(f"    {key}: {_short(step[key])}")
    for output in step.get("outputs", ()):
        kind = (output.get("schema") or {}).get("type", "any")
        need = "required" if output["required"] else "optional"
        about = f" — {output['description']}" if output.get("description") else ""
        click.echo(f"    output {output['name']} ({kind}, {need}){about}")
    for criterion in step.get("success_criteria", ()):
        click.echo(f"    criterion: {criterion}")
    if step.get("security"):
        click.echo(f"    security: {_short(step['security'])}")
    for handoff in step.get("handoff", ()):
        click.echo(f"    handoff: {_short(handoff)}")
    outputs = " ".join(f"--output {name}=..." for name in step["report"]["outputs"])
    click.echo(
        f"    report: osop log {run} {step['node_id']} --status COMPLETED {outputs}".rstrip()
        + f"  (or --status FAILED; engine: osop step {run} {step['node_id']} --execute)"
    )


@click.command()
@click.argument("run_id")
@click.argument("node", required=False)
@click.option(
    "--execute",
    is_flag=True,
    help="Have the engine run NODE (a ready step) with its executor, then show what is next.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the steps as one JSON object.")
@store_option
@handle_errors
def step(
    run_id: str, node: str | None, execute: bool, as_json: bool, store_dir: Path | None
) -> None:
    """Show the steps a guided run hands out now, or execute one (NODE --execute).

    \b
    Each ready step says what to do: purpose, explain, resolved inputs and
    runtime (secrets as references), the outputs to report, success criteria,
    approvals, handoff, attempt and time left.  Report it with `osop log`.
    Asking also moves the run when it must: a step past its time limit times
    out, approvals and events delivered since are taken in.
    Exit codes: 3 steps or answers awaited; 0 COMPLETED; 1 FAILED/TIMED_OUT.
    """
    from osop.engine.guided import execute_step, guided_steps

    store = open_store(store_dir)
    if execute and node is None:
        raise click.UsageError("--execute needs the NODE to execute")
    if node is not None and not execute:
        raise click.UsageError(f"give --execute to have the engine run {node}")
    if node is not None:
        view = run_engine(execute_step(run_id, node, store=store))
    else:
        view = run_engine(guided_steps(run_id, store=store))
    print_view(view, as_json=as_json)


def _pairs(pairs: tuple[str, ...], what: str) -> list[tuple[str, str]]:
    out = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.UsageError(f"{what} expects NAME=VALUE, got {pair!r}")
        out.append((key.strip(), value))
    return out


def _outputs(
    pairs: tuple[str, ...], outputs_file: Path | None, as_text: frozenset[str]
) -> dict[str, Any]:
    from osop.cli.run_cmd import _mapping_file, _scalar

    outputs: dict[str, Any] = _mapping_file(outputs_file, "--outputs-file") if outputs_file else {}
    for name, value in _pairs(pairs, "--output"):
        outputs[name] = value if name in as_text else _scalar(value)
    return outputs


def _tokens(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    prompt, sep, completion = text.partition("/")
    try:
        if not sep:
            raise ValueError
        return int(prompt), int(completion)
    except ValueError:
        raise click.UsageError(f"--tokens expects IN/OUT (e.g. 1200/300), got {text!r}") from None


def _string_outputs(store_dir: Path | None, run_id: str, node: str) -> frozenset[str]:
    """Outputs NODE declares as strings: ``--output version=2`` stays ``"2"``."""
    from osop.engine.runner import run_workflow
    from osop.format.ports import string_typed

    workflow = run_workflow(open_store(store_dir).get(run_id))
    return string_typed(workflow.node(node).outputs) if workflow.has_node(node) else frozenset()


@click.command()
@click.argument("run_id")
@click.argument("node")
@click.option(
    "--status",
    required=True,
    help="What the step ended with: COMPLETED or FAILED.",
)
@click.option(
    "--output",
    "output_pairs",
    multiple=True,
    metavar="NAME=VALUE",
    help="An output of the step (repeatable); VALUE is read as a YAML scalar.",
)
@click.option(
    "--outputs-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A YAML/JSON mapping of outputs (--output wins).",
)
@click.option("--error-code", default=None, help="Error code of a FAILED step.")
@click.option("--error-message", default=None, help="What went wrong, in words.")
@click.option(
    "--tool",
    "tool_pairs",
    multiple=True,
    metavar="NAME=CALLS",
    help="A tool the step used and how often (repeatable).",
)
@click.option("--tokens", default=None, metavar="IN/OUT", help="Prompt/completion tokens used.")
@click.option("--model", default=None, help="The model that did the step.")
@click.option("--actor", default=None, help="The person who did or decided the step.")
@click.option("--decision", default=None, help="A person's decision (human_metadata.decision).")
@click.option(
    "--attempt",
    type=int,
    default=None,
    help="The attempt reported (refused unless it is the one handed out).",
)
@click.option("--json", "as_json", is_flag=True, help="Print what is next as one JSON object.")
@store_option
@handle_errors
def log(
    run_id: str,
    node: str,
    status: str,
    output_pairs: tuple[str, ...],
    outputs_file: Path | None,
    error_code: str | None,
    error_message: str | None,
    tool_pairs: tuple[str, ...],
    tokens: str | None,
    model: str | None,
    actor: str | None,
    decision: str | None,
    attempt: int | None,
    as_json: bool,
    store_dir: Path | None,
) -> None:
    """Record what the caller did for step NODE of guided run RUN_ID; print what is next.

    \b
    Refused, changing nothing, when NODE is not a step handed out now, the
    status is not COMPLETED/FAILED, a declared output is missing or of the
    wrong type, or the attempt was already reported.  A FAILED step is handed
    out again while its retry policy allows.
    """
    from osop.engine.guided import report_step

    report: dict[str, Any] = {
        "status": status.upper(),
        "outputs": _outputs(output_pairs, outputs_file, _string_outputs(store_dir, run_id, node)),
    }
    if error_code is not None or error_message is not None:
        report["error"] = {
            k: v for k, v in (("code", error_code), ("message", error_message)) if v is not None
        }
    if tool_pairs:
        calls: dict[str, Any] = {}
        for name, value in _pairs(tool_pairs, "--tool"):
            try:
                calls[name] = int(value)
            except ValueError:
                raise click.UsageError(f"--tool {name}: CALLS must be a number") from None
        report["tool_calls"] = calls
    counted = _tokens(tokens)
    if counted is not None or model is not None:
        ai: dict[str, Any] = {}
        if model is not None:
            ai["model"] = model
        if counted is not None:
            ai["prompt_tokens"], ai["completion_tokens"] = counted
        report["ai_metadata"] = ai
    if actor is not None or decision is not None:
        report["human_metadata"] = {
            k: v for k, v in (("actor", actor), ("decision", decision)) if v is not None
        }
    if attempt is not None:
        report["attempt"] = attempt
    view = run_engine(report_step(run_id, node, report, store=open_store(store_dir)))
    print_view(view, as_json=as_json)
