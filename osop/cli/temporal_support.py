"""``--temporal HOST:PORT`` and its companions, shared by every command that can act on
runs that live on a Temporal cluster (run, runs, status, approve, signal, resume, cancel,
report, worker).  The options are folded into one ``temporal`` argument: a
:class:`~osop.temporal.connection.TemporalTarget`, or None for the local run store.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

__all__ = ["follow_temporal_run", "run_async", "temporal_options"]

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

_NAMES = (
    "temporal_address",
    "namespace",
    "task_queue",
    "tls",
    "tls_cert",
    "tls_key",
    "tls_ca",
    "tls_server_name",
    "api_key",
)


def temporal_options(func: F) -> F:
    """Add the Temporal options; the command receives ``temporal`` (a target or None)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        given = {name: kwargs.pop(name, None) for name in _NAMES}
        kwargs["temporal"] = _target(given)
        return func(*args, **kwargs)

    decorators = [
        click.option(
            "--temporal",
            "temporal_address",
            metavar="HOST:PORT",
            default=None,
            help="Act on a Temporal cluster's runs (default: $OSOP_TEMPORAL_ADDRESS; "
            "unset: the local run store). Extra `temporal`.",
        ),
        click.option(
            "--namespace",
            default=None,
            help="Temporal namespace (default: $OSOP_TEMPORAL_NAMESPACE, else default).",
        ),
        click.option(
            "--task-queue",
            default=None,
            help="Task queue of the OSOP workers (default: $OSOP_TEMPORAL_TASK_QUEUE, else osop).",
        ),
        click.option("--tls", is_flag=True, default=False, help="Connect with TLS."),
        click.option(
            "--tls-cert",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            default=None,
            help="Client certificate (mTLS; with --tls-key). Implies --tls.",
        ),
        click.option(
            "--tls-key",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            default=None,
            help="Client certificate's private key.",
        ),
        click.option(
            "--tls-ca",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            default=None,
            help="CA bundle to check the server with. Implies --tls.",
        ),
        click.option("--tls-server-name", default=None, help="Server name to verify (SNI)."),
        click.option(
            "--api-key",
            default=None,
            help="API key of a hosted cluster (better: $OSOP_TEMPORAL_API_KEY). Implies --tls.",
        ),
    ]
    out: Any = wrapper
    for decorator in reversed(decorators):
        out = decorator(out)
    return out  # type: ignore[no-any-return]


def _target(given: dict[str, Any]) -> Any:
    from osop.temporal.connection import ENV_ADDRESS, TemporalTarget

    address = given["temporal_address"] or os.environ.get(ENV_ADDRESS)
    if not address:
        for name in _NAMES[1:]:
            if given[name]:
                flag = "--" + name.replace("_", "-")
                raise click.UsageError(f"{flag} needs --temporal HOST:PORT (or ${ENV_ADDRESS})")
        return None
    return TemporalTarget.from_options(
        address,
        namespace=given["namespace"],
        task_queue=given["task_queue"],
        tls=bool(given["tls"]),
        tls_cert=given["tls_cert"],
        tls_key=given["tls_key"],
        tls_ca=given["tls_ca"],
        tls_server_name=given["tls_server_name"],
        api_key=given["api_key"],
    )


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def follow_temporal_run(
    target: Any,
    run_id: str,
    *,
    log_path: Path | None = None,
    json_lines: bool = False,
    report_path: Path | None = None,
) -> None:
    """Wait for a run on Temporal to end or pause; print and exit as `osop run` does."""
    from osop.cli.run_support import finish
    from osop.temporal.runs import wait_for_run

    result = run_async(wait_for_run(target, run_id))
    finish(result, log_path=log_path, json_lines=json_lines, report_path=report_path)
