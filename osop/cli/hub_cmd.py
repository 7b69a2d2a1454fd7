"""``osop hub``: run a SOP Hub, or use one (login, publish, search, show, pull, yank, record).

A thin layer: the server is :mod:`osop.hub.server`, the client :mod:`osop.hub.client`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click

from osop.cli.common import handle_errors, print_json

__all__ = ["hub"]

_url_option = click.option(
    "--url", envvar="OSOP_HUB_URL", help="The hub (default: from `osop hub login`, else local)."
)
_db_option = click.option(
    "--db",
    "db_url",
    envvar="OSOP_HUB_DB",
    help="Database URL: sqlite:///PATH (default: the user's data folder) or postgresql://...",
)


def _client(url: str | None) -> Any:
    from osop.hub.client import HubClient

    return HubClient.from_config(url)


def _store(db_url: str | None) -> Any:
    from osop.hub import require_server_extra

    require_server_extra()
    from osop.hub.store import HubStore

    return HubStore(db_url)


@click.group()
def hub() -> None:
    """Share processes through a SOP Hub: a registry of validated .osop and .sop packages.

    \b
    Operator:  osop hub serve --db postgresql://...   osop hub token create OWNER
    Users:     osop hub login --url URL --token TOKEN
               osop hub publish handbook.sop --name OWNER/NAME --version 1.0.0
               osop hub search "deploy" --node-type human
               osop hub pull OWNER/NAME[@VERSION] -o folder/
    """


@hub.command()
@_db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8765, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--max-body-bytes", default=5_000_000, show_default=True, type=int, help="Largest upload."
)
@click.option(
    "--writes-per-minute", default=60, show_default=True, type=int, help="Per token and client."
)
@click.option(
    "--reads-per-minute",
    default=6000,
    show_default=True,
    type=int,
    help="Per client (0: no limit).",
)
@handle_errors
def serve(
    db_url: str | None,
    host: str,
    port: int,
    max_body_bytes: int,
    writes_per_minute: int,
    reads_per_minute: int,
) -> None:
    """Serve the hub's API (OpenAPI at /openapi.json) and web pages.

    The database is migrated to the newest schema first.  Needs the `hub` extra:
    pip install 'osop-toolkit[hub]'.
    """
    store = _store(db_url)
    import uvicorn

    from osop.hub.server.app import create_app
    from osop.hub.server.limits import Limits

    limits = Limits(max_body_bytes, writes_per_minute, reads_per_minute)
    click.echo(f"OSOP Hub on http://{host}:{port}/ (database: {_safe_url(store.url)})", err=True)
    uvicorn.run(create_app(store, limits), host=host, port=port, log_level="warning")


def _safe_url(url: str) -> str:
    """The database URL without its password (it is printed)."""
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)


@hub.group()
def token() -> None:
    """Publishing tokens (run by the hub's operator, on the hub's database)."""


@token.command("create")
@click.argument("owner")
@_db_option
@click.option("--label", default="", help="A note on whom the token is for.")
@handle_errors
def token_create(owner: str, db_url: str | None, label: str) -> None:
    """Create a token that publishes under OWNER (the owner is created if new).

    The token is printed once; the hub keeps only its SHA-256.
    """
    store = _store(db_url)
    click.echo(store.create_token(owner, label))
    store.close()


@token.command("revoke")
@click.argument("owner")
@_db_option
@handle_errors
def token_revoke(owner: str, db_url: str | None) -> None:
    """Revoke every token of OWNER."""
    store = _store(db_url)
    count = store.revoke_tokens(owner)
    store.close()
    click.echo(f"Revoked {count} token{'s' if count != 1 else ''} of {owner}.")


@hub.command()
@_url_option
@click.option("--token", "token_value", help="The token (default: asked for, not echoed).")
@handle_errors
def login(url: str | None, token_value: str | None) -> None:
    """Check a token against the hub and save the hub URL and token (file mode 0600)."""
    from osop.hub.client import HubClient, HubConfig, load_config, save_config

    config = load_config()
    url = url or config.url
    if not token_value:
        token_value = click.prompt("Token", hide_input=True)
    with HubClient(url, token_value) as client:
        owner = client.whoami()
    path = save_config(HubConfig(url=url, token=token_value, owner=owner))
    click.echo(f"Logged in to {url} as {owner} (saved in {path}).")


def _default_spec(source: Path, owner: str | None) -> str:
    from osop.format.loader import load_path

    if owner is None:
        raise click.UsageError("give --name OWNER/NAME (or `osop hub login` to know your owner)")
    data = load_path(source).data
    raw = str(data.get("id") or data.get("name") or source.name.split(".")[0])
    slug = re.sub(r"[^a-z0-9]+", "-", raw.lower()).strip("-")[:63] or "package"
    return f"{owner}/{slug}"


@hub.command()
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", "spec", help="OWNER/NAME (default: your owner and the document's id).")
@click.option("--version", "version", help="Semantic version (default: the document's version).")
@_url_option
@handle_errors
def publish(source: Path, spec: str | None, version: str | None, url: str | None) -> None:
    """Publish SOURCE (an .osop, or a .sop with the workflows it refers to)."""
    from osop.format.loader import load_path
    from osop.hub.client import load_config

    config = load_config()
    spec = spec or _default_spec(source, config.owner)
    if version is None:
        found = load_path(source).data.get("version")
        if found is None:
            raise click.UsageError("give --version (the document has no `version:`)")
        version = str(found)
    with _client(url) as client:
        result = client.publish(spec, version, source)
    for ref in result.get("missing_refs", []):
        click.echo(f"Warning: ref {ref} does not exist; it is not in the package", err=True)
    for issue in result.get("warnings", []):
        click.echo(f"Warning: {issue['file']}: [{issue['rule']}] {issue['message']}", err=True)
    summary = result["summary"]
    click.echo(
        f"Published {result['package']}@{result['version']} ({summary['kind']}, "
        f"{len(summary['workflows'])} workflow(s), level {summary['level']}, "
        f"{result['content_hash']})."
    )


@hub.command()
@click.argument("query", required=False, default="")
@click.option("--node-type", help="Only packages with a node of this type.")
@click.option("--tag", help="Only packages with this tag.")
@click.option("--level", type=click.IntRange(0, 3), help="At least this conformance level.")
@click.option("--owner", help="Only this owner's packages.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 100))
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@_url_option
@handle_errors
def search(
    query: str,
    node_type: str | None,
    tag: str | None,
    level: int | None,
    owner: str | None,
    limit: int,
    as_json: bool,
    url: str | None,
) -> None:
    """Search the hub (name, description, tags, node purposes), best evidence first."""
    with _client(url) as client:
        results = client.search(
            query, node_type=node_type, tag=tag, level=level, owner=owner, limit=limit
        )
    if as_json:
        print_json(results)
        return
    if not results:
        click.echo("No packages found.")
        return
    for hit in results:
        evidence = hit["evidence"]
        runs = (
            f"{evidence['runs']} runs, {evidence['success_rate']:.0%} ok"
            if evidence["runs"]
            else "no runs"
        )
        click.echo(
            f"{hit['package']}@{hit['version']}  {hit['title']}  [level {hit['level']}; {runs}]"
        )
        if hit["description"]:
            click.echo(f"    {hit['description']}")


@hub.command()
@click.argument("spec")
@click.option("--json", "as_json", is_flag=True, help="Print everything as JSON.")
@_url_option
@handle_errors
def show(spec: str, as_json: bool, url: str | None) -> None:
    """Show a package version: operations, security summary, evidence, versions."""
    with _client(url) as client:
        version = client.version(spec)
        package = client.package(spec)
        stats = client.stats(f"{version['package']}@{version['version']}")
    version.pop("files", None)
    if as_json:
        print_json({"version": version, "versions": package["versions"], "stats": stats})
        return
    summary = version["summary"]
    click.echo(f"{version['package']}@{version['version']}: {version['title']}")
    if version["description"]:
        click.echo(f"  {version['description']}")
    if version["yanked"]:
        click.echo(f"  YANKED: {version['yank_reason']}")
    click.echo(
        f"  {version['kind']}, level {version['level']}, node types "
        f"{', '.join(version['node_types'])}, risk {summary['security']['risk']}, "
        f"{len(summary['security']['approval_gates'])} approval gate(s)"
    )
    click.echo(f"  hash {version['content_hash']}")
    click.echo("Operations:")
    for wf in summary["workflows"]:
        inputs = ", ".join(wf["inputs"]) or "-"
        click.echo(f"  {wf['title'] or wf['name']} ({wf['path']}); inputs: {inputs}")
    click.echo("Evidence:")
    if not stats["workflows"]:
        click.echo("  no records uploaded")
    for wf_stats in stats["workflows"]:
        click.echo(
            f"  {wf_stats['workflow_id']}: {wf_stats['total_runs']} runs, "
            f"{wf_stats['success_rate']:.0%} succeeded, p50 {wf_stats.get('p50_duration_ms')} ms, "
            f"p95 {wf_stats.get('p95_duration_ms')} ms, cost ${wf_stats['total_cost_usd']}"
        )
    click.echo("Versions: " + ", ".join(
        v["version"] + (" (yanked)" if v["yanked"] else "") for v in package["versions"]
    ))  # fmt: skip


@hub.command()
@click.argument("spec")
@click.option(
    "-o", "--output", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
    show_default=True, help="Folder to write the package into.",
)  # fmt: skip
@click.option("--force", is_flag=True, help="Overwrite files that exist.")
@_url_option
@handle_errors
def pull(spec: str, output: Path, force: bool, url: str | None) -> None:
    """Download OWNER/NAME[@VERSION], checking every file's hash before writing."""
    with _client(url) as client:
        result = client.pull(spec, output, force=force)
    click.echo(
        f"Pulled {result.package}@{result.version} into {output} "
        f"({len(result.files)} file(s), {result.content_hash}); main document: {result.main}"
    )


@hub.command()
@click.argument("spec")
@click.option("--reason", default="", help="Why (shown to everyone who looks at it).")
@click.option("--undo", is_flag=True, help="Un-yank the version.")
@_url_option
@handle_errors
def yank(spec: str, reason: str, undo: bool, url: str | None) -> None:
    """Yank OWNER/NAME@VERSION: it stays readable but `latest` and search skip it."""
    with _client(url) as client:
        result = client.yank(spec, reason, undo=undo)
    state = "yanked" if result["yanked"] else "no longer yanked"
    click.echo(f"{result['package']}@{result['version']} is {state}.")


@hub.command()
@click.argument("spec")
@click.argument(
    "records", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--workflow",
    help="The package's workflow these records are runs of, when they name another id "
    "(imported agent sessions: `osop import`, then `osop synthesize`).",
)
@_url_option
@handle_errors
def record(spec: str, records: tuple[Path, ...], workflow: str | None, url: str | None) -> None:
    """Upload .osoplog records of OWNER/NAME[@VERSION] as evidence (redacted by the hub)."""
    stats: dict[str, Any] = {}
    with _client(url) as client:
        for path in records:
            stats = client.upload_record(spec, path, workflow)
    click.echo(f"Uploaded {len(records)} record(s) to {stats['package']}@{stats['version']}.")
    for wf_stats in stats["workflows"]:
        click.echo(
            f"  {wf_stats['workflow_id']}: {wf_stats['total_runs']} runs, "
            f"{wf_stats['success_rate']:.0%} succeeded"
        )
