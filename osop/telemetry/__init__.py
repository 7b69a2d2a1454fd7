"""OpenTelemetry tracing and metrics of runs (extra ``otel``).

:func:`setup_telemetry` builds the SDK from the standard ``OTEL_*`` variables;
:func:`tracing_observer` plugs it into a run (``RunOptions.observers``);
:func:`export_records` sends past records as traces.  Importing this package
does not import OpenTelemetry; the functions do, with an install hint.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from osop.telemetry.context import current_traceparent

if TYPE_CHECKING:
    from osop.telemetry.setup import Telemetry

__all__ = ["current_traceparent", "export_records", "setup_telemetry", "tracing_observer"]


def setup_telemetry(**kwargs: Any) -> Telemetry:
    from osop.telemetry.setup import setup_telemetry as setup

    return setup(**kwargs)


def tracing_observer(telemetry: Telemetry) -> Any:
    from osop.telemetry.tracer import tracing_observer as observer

    return observer(telemetry)


def export_records(records: Any, telemetry: Telemetry) -> int:
    from osop.telemetry.export import export_records as export

    return export(records, telemetry)
