"""``osop studio``: plan a process in the browser (a thin layer over :mod:`osop.studio`)."""

from __future__ import annotations

from pathlib import Path

import click

from osop.cli.common import handle_errors

__all__ = ["studio"]


@click.command()
@click.argument(
    "path",
    required=False,
    default=".",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (anything but loopback lets others on the network in).",
)
@click.option("--port", default=0, show_default=True, type=int, help="Port (0: a free one).")
@click.option("--no-browser", is_flag=True, help="Print the URL only; do not open a browser.")
@click.option(
    "--store",
    "store_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Run store for simulated runs and the Ledger (default: PATH/.osop or $OSOP_HOME).",
)
@handle_errors
def studio(path: Path, host: str, port: int, no_browser: bool, store_dir: Path | None) -> None:
    """Open the folder PATH (default: here) in OSOP Studio, a visual editor in the browser.

    \b
    The files on disk stay the source of truth: every edit is written back keeping
    comments and key order.  The URL printed carries a per-launch token; share it
    only with the people who may edit the folder.  Needs the `studio` extra:
    pip install 'osop-toolkit[studio]'.
    """
    from osop.studio import require_studio_extra

    require_studio_extra()
    from osop.studio.serve import serve

    serve(
        path,
        host=host,
        port=port,
        open_browser=not no_browser,
        store_dir=store_dir,
        announce=lambda text: click.echo(text, err=True),
    )
