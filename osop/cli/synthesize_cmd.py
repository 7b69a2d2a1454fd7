"""``osop synthesize``: a better workflow from execution records."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import click
import yaml

from osop.analysis.definitions import definitions_beside
from osop.analysis.iteration import apply_changes_to_text, file_hash
from osop.analysis.llm_proposals import propose_with_llm, provider_named
from osop.analysis.records import duration_text
from osop.analysis.selection import parse_modes, select_records
from osop.analysis.stats import compute_stats
from osop.analysis.synthesize import SynthesisResult, dump_workflow, synthesize
from osop.cli.common import handle_errors, modes_option, print_json
from osop.cli.run_support import store_option
from osop.format.api import load_workflow
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
    type=click.Choice(["offline", "openai"]),
    default=None,
    help="Also ask a language model for changes (validated like the others, marked "
    "x-osop-proposed-by: llm). openai reads OPENAI_API_KEY and OPENAI_BASE_URL.",
)
@click.option("--llm-model", default=None, help="Model name (default: offline / gpt-4o-mini).")
@click.option("--json", "as_json", is_flag=True, help="Print the iteration record as JSON.")
@modes_option
@store_option
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
    # without a base, steps carry the definitions the runs executed (run store copies)
    definitions = definitions_beside(selection.records) if workflow is None else None
    result = synthesize(records, workflow, goal, definitions)
    result.selection = selection.to_dict()
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    if llm is not None:
        provider = provider_named(
            llm,
            api_key=os.environ.get("OPENAI_API_KEY"),
            base_url=os.environ.get("OPENAI_BASE_URL"),
        )
        model = llm_model or ("offline" if llm == "offline" else "gpt-4o-mini")
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
            written = None
    else:
        text = dump_workflow(result.workflow)
    if written is not None:
        atomic_write_text(Path(output), text)
    if insights is not None:
        record = result.iteration_record()
        if insights.lower().endswith(".json"):
            insight_text = json.dumps(record, indent=2, ensure_ascii=False) + "\n"
        else:
            insight_text = yaml.safe_dump(record, sort_keys=False, allow_unicode=True)
        atomic_write_text(Path(insights), insight_text)
    if as_json:
        print_json(result.iteration_record())
    else:
        click.echo(_summary(result, written, selection.describe()), nl=False)
