"""``osop iteration``: decide on and apply the changes ``osop synthesize`` proposed."""

from __future__ import annotations

import click

from osop.analysis.iteration import apply_iteration, decide, read_iteration
from osop.cli.common import handle_errors, print_json

__all__ = ["iteration"]


@click.group("iteration")
def iteration() -> None:
    """Approve, reject and apply the changes of an iteration record.

    \b
    osop synthesize RUNS --base WF -o NEW --insights iter.yaml   # status: proposed
    osop iteration show iter.yaml
    osop iteration approve iter.yaml [CHANGE_ID...]              # all when none named
    osop iteration reject iter.yaml add_timeout:lint
    osop iteration apply iter.yaml -o better.osop.yaml           # onto the base as written
    """


def _print_changes(data: dict[str, object]) -> None:
    iteration_data = data["iteration"]
    assert isinstance(iteration_data, dict)
    click.echo(f"{iteration_data.get('id', '?')}  status {iteration_data.get('status', '?')}")
    for change in iteration_data["proposed_changes"]:
        click.echo(f"  {change.get('status', 'proposed'):<9} {change['id']}")
        if change.get("reason"):
            click.echo(f"            {str(change['reason'])[:200]}")


@iteration.command("show")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the record as JSON.")
@handle_errors
def show(file: str, as_json: bool) -> None:
    """List the changes of an iteration record with their status and reason."""
    data = read_iteration(file)
    if as_json:
        print_json(data)
    else:
        _print_changes(data)


def _decide_command(decision: str, verb: str) -> click.Command:
    @click.command(verb, help=f"Mark changes {decision} (every change not yet applied when "
                   "no CHANGE_ID is given). The record is updated in place.")  # fmt: skip
    @click.argument("file", type=click.Path(dir_okay=False, exists=True))
    @click.argument("change_ids", nargs=-1)
    @click.option("--actor", default=None, help="Who decides (default: the current user).")
    @click.option("--notes", default=None, help="Why, kept with the decision.")
    @handle_errors
    def command(
        file: str, change_ids: tuple[str, ...], actor: str | None, notes: str | None
    ) -> None:
        data = decide(file, decision, change_ids, actor=actor, notes=notes)
        _print_changes(data)

    return command


iteration.add_command(_decide_command("approved", "approve"))
iteration.add_command(_decide_command("rejected", "reject"))


@iteration.command("apply")
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
@click.option(
    "--to",
    "base",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="The workflow to change (default: the base the changes were proposed for).",
)
@click.option(
    "-o", "--output", required=True, type=click.Path(dir_okay=False), help="New .osop file."
)
@handle_errors
def apply(file: str, base: str | None, output: str) -> None:
    """Apply the approved changes to the base and write a new workflow.

    Comments, key order and untouched lines of the base are kept; the result is
    validated first. With no approved change nothing is written.
    """
    result = apply_iteration(file, output, base)
    for note in result.notes:
        click.echo(note, err=True)
    if result.output is not None:
        click.echo(f"wrote {result.output}: applied {', '.join(result.applied)}")
