"""``osop synthesize``: a better workflow from execution records."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import click
import yaml

from osop.analysis.agent_synthesis import synthesize_sessions
from osop.analysis.definitions import definitions_beside
from osop.analysis.iteration import apply_changes_to_text, file_hash
from osop.analysis.llm_proposals import propose_with_llm, provider_named
from osop.analysis.records import duration_text
from osop.analysis.selection import parse_modes, select_records
from osop.analysis.sessions import is_session
from osop.analysis.stats import compute_stats
from osop.analysis.synthesize import SynthesisResult, check_valid, dump_workflow, synthesize
from osop.cli.common import handle_errors, max_bytes_option, modes_option, print_json, store_option
from osop.errors import OsopError
from osop.format.api import load_workflow
from osop.format.workflow import Workflow
from osop.record.model import RunRecord
from osop.record.writer import atomic_write_text

__all__ = ["synthesize_cmd"]


def _summary(result: SynthesisResult, output: str | None, describe: str) -> str:
    if output is None:
        lines = [
            f"no change proposed from {len(result.based_on_runs)} run(s): wrote no workflow",
            f"  {describe}",
        ]
    else:
        lines = [
            f"wrote {output}"
            + (" (inferred from the records)" if result.inferred else "")
            + f": {len(result.proposals)} change(s) from {len(result.based_on_runs)} run(s)",
            f"  {describe}",
        ]
    for p in result.proposals:
        target = p.target if isinstance(p.target, str) else " + ".join(p.target)
        by = " (llm)" if p.source == "llm" else ""
        lines.append(f"  {p.type:<24} {target}{by}: {p.reason}")
    if result.llm is not None:
        lines.append(
            f"  llm ({result.llm['provider']}, {result.llm['model']}): "
            f"{result.llm['accepted']} accepted, {len(result.llm['rejected'])} refused"
        )
    b, a = result.before, result.after
    lines.append(
        f"  critical path  {duration_text(b.critical_path_ms / 1000)} -> "
        f"{duration_text(a.critical_path_ms / 1000)}"
    )
    lines.append(f"  expected cost  ${b.expected_cost_usd:.4f} -> ${a.expected_cost_usd:.4f}")
    lines.append(f"  success rate   {b.expected_success_rate:.1%} -> {a.expected_success_rate:.1%}")
    return "\n".join(lines) + "\n"


def _write(output: str | None, text: str, insights: str | None, report: Any) -> None:
    """The workflow (unless there is none to write), and the insights as JSON
    (``*.json``) or YAML when asked for."""
    try:
        if output is not None:
            atomic_write_text(output, text)
        if insights is not None:
            if insights.lower().endswith(".json"):
                text = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
            else:
                text = yaml.safe_dump(report, sort_keys=False, allow_unicode=True)
            atomic_write_text(insights, text)
    except OSError as exc:
        raise OsopError(f"cannot write: {exc.strerror or exc}") from None


def _agent_workflow(
    records: list[RunRecord],
    base: Workflow | None,
    output: str,
    insights: str | None,
    as_json: bool,
) -> None:
    result = synthesize_sessions(records, base=dict(base.raw) if base is not None else None)
    check_valid(result.workflow, output)
    report = result.to_dict()
    _write(output, dump_workflow(result.workflow), insights, report)
    if as_json:
        print_json(report)
        return
    c = report["compression"]
    lines = [
        f"wrote {output}: {result.sessions} session(s), {c['session_nodes']} recorded nodes "
        f"({c['tool_calls']} tool calls) -> {c['workflow_nodes']} steps ({c['ratio']}x)"
    ]
    for step, ev in result.steps.items():
        if "tool_calls" in ev:
            lines.append(
                f"  {step:<16} in {ev['sessions']}/{result.sessions} sessions, "
                f"{ev['tool_calls']} calls, {ev['failure_rate']:.0%} failed, "
                f"{ev['tokens']} tokens"
            )
        elif "irreversible_commands" in ev:
            commands = ", ".join(ev["irreversible_commands"])
            lines.append(f"  {step:<16} added before: {commands}")
        else:
            lines.append(f"  {step:<16} the prompt that starts each session")
    if result.loop:
        lines.append(
            f"  loop             {' -> '.join(result.loop['body'])}, at most "
            f"{result.loop['max_iterations']} rounds ({result.loop['sessions_that_looped']} "
            "sessions went round)"
        )
    for block in result.parallel:
        lines.append(f"  parallel         {', '.join(block)}")
    for label, n in result.dropped.items():
        lines.append(f"  dropped          {label} (in {n} session(s) only)")
    click.echo("\n".join(lines))


@click.command("synthesize")
@click.argument("logs", nargs=-1, required=True)
@click.option("--base", type=click.Path(dir_okay=False), help="Workflow to improve.")
@click.option(
    "--goal",
    default=None,
    help="speed, cost or reliability selects the rules that serve it; any other text is "
    "recorded as the goal and every rule applies.",
)
@click.option(
    "-o", "--output", required=True, type=click.Path(dir_okay=False), help="New .osop file."
)
@click.option(
    "--insights",
    type=click.Path(dir_okay=False),
    help="Write the iteration record (hotspots, bottlenecks, changes, evidence, estimates) "
    "here (.json or YAML).",
)
@click.option(
    "--llm",
    "llm",
    type=click.Choice(["offline", "anthropic", "openai", "google"]),
    default=None,
    help="Also ask a language model for changes (validated like the others, marked "
    "x-osop-proposed-by: llm). Keys and base URLs come from the vendors' standard "
    "variables (ANTHROPIC_API_KEY, OPENAI_API_KEY / OPENAI_BASE_URL, GEMINI_API_KEY).",
)
@click.option(
    "--llm-model",
    default=None,
    help="Model name (default per provider: offline, claude-sonnet-4-5, gpt-4o-mini, gemini-2.5-flash).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the iteration record as JSON.")
@modes_option
@store_option
@max_bytes_option
@handle_errors
def synthesize_cmd(
    logs: tuple[str, ...],
    base: str | None,
    goal: str | None,
    output: str,
    insights: str | None,
    llm: str | None,
    llm_model: str | None,
    as_json: bool,
    modes: tuple[str, ...],
    store_dir: Path | None,
) -> None:
    """Propose a better workflow from execution records (deterministic).

    With --base, keep the workflow and improve it: retries where failures are
    transient, timeouts on long tails, parallel steps that are independent,
    bypasses for slow human approvals of low-risk input, pre-checks before steps
    that fail the same way, approval gates before dangerous commands. Without
    --base, infer the process from the records first. The result is validated.
    """
    selection = select_records(logs, modes=parse_modes(modes), store_root=store_dir)
    for failure in selection.failures:
        click.echo(f"warning: skipped {failure.message}", err=True)
    records = selection.runs
    # the base must be valid: improving a workflow the engine would refuse helps no one
    workflow = load_workflow(base) if base is not None else None
    if records and all(is_session(r) for r in records):
        _agent_workflow(records, workflow, output, insights, as_json)
        return
    # without a base, steps carry the definitions the runs executed (run store copies)
    definitions = definitions_beside(selection.records) if workflow is None else None
    result = synthesize(records, workflow, goal, definitions)
    result.selection = selection.to_dict()
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    if llm is not None:
        provider = provider_named(llm, api_key=None, base_url=None)
        defaults = {
            "offline": "offline",
            "anthropic": "claude-sonnet-4-5",
            "google": "gemini-2.5-flash",
        }
        model = llm_model or defaults.get(llm, "gpt-4o-mini")
        stats = [s.to_dict() for s in compute_stats(records)]
        asyncio.run(
            propose_with_llm(result, provider, model, stats={"workflows": stats}, goal=goal)
        )
    written: str | None = output
    if workflow is not None and base is not None:
        raw = Path(base).read_bytes()
        result.origin = {
            "id": workflow.id,
            "version": workflow.version,
            "base": base,
            "base_hash": file_hash(raw),
            "proposed_version": result.workflow.get("version"),
        }
        if result.proposals:
            # the base as written, comments and order kept, with the changes replayed
            text = apply_changes_to_text(
                raw.decode("utf-8"),
                base,
                [p.to_dict() for p in result.proposals],
                version=str(result.workflow.get("version")),
            )
        else:
            written, text = None, ""
    else:
        text = dump_workflow(result.workflow)
    _write(written, text, insights, result.iteration_record() if insights else None)
    if as_json:
        print_json(result.iteration_record())
    else:
        click.echo(_summary(result, written, selection.describe()), nl=False)
