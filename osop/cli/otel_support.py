"""Tracing for `osop run` / `osop resume`: when it is on, and closing it before exit."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from osop.format.workflow import Workflow
    from osop.telemetry.setup import Telemetry

__all__ = ["close_telemetry", "telemetry_for", "workflow_traced"]


def workflow_traced(workflow: Workflow | None) -> Mapping[str, Any] | None:
    """The workflow's ``observability.tracing`` block when it turns tracing on."""
    if workflow is None:
        return None
    tracing = workflow.observability.get("tracing")
    if isinstance(tracing, Mapping) and tracing.get("enabled", True) is not False:
        return tracing
    return None


def telemetry_for(otel: bool, workflow: Workflow | None) -> Telemetry | None:
    """Telemetry when ``--otel``, ``OSOP_OTEL=1`` or the workflow's tracing block asks for it.

    ``--otel`` without the extra is an error; a workflow that asks for tracing
    while the extra is missing runs untraced, with a warning.
    """
    from osop.telemetry import setup_telemetry

    asked = otel or os.environ.get("OSOP_OTEL", "").strip().lower() in ("1", "true", "yes")
    tracing = workflow_traced(workflow)
    if not asked and tracing is None:
        return None
    if not asked:
        try:
            import opentelemetry.sdk  # noqa: F401
        except ImportError:
            click.echo(
                "warning: the workflow enables tracing but OpenTelemetry is not installed "
                "(pip install 'osop-toolkit[otel]'); running untraced",
                err=True,
            )
            return None
    rate = (tracing or {}).get("sampling_rate")
    return setup_telemetry(
        sampling_rate=float(rate) if isinstance(rate, int | float) else None,
        endpoint=str((tracing or {}).get("endpoint") or "") or None,
    )


def close_telemetry(telemetry: Telemetry | None) -> None:
    if telemetry is not None:
        telemetry.shutdown()
        if telemetry.failed_spans:
            click.echo(
                f"warning: {telemetry.failed_spans} span(s) could not be exported "
                "(check OTEL_EXPORTER_OTLP_ENDPOINT)",
                err=True,
            )
