"""The OpenTelemetry SDK, configured the standard way (``OTEL_*`` variables).

* exporter: ``OTEL_TRACES_EXPORTER`` / ``OTEL_METRICS_EXPORTER`` — ``otlp``
  (default), ``console`` or ``none``;
* protocol: ``OTEL_EXPORTER_OTLP_PROTOCOL`` (or the ``_TRACES_`` / ``_METRICS_``
  forms) — ``http/protobuf`` (default, built in) or ``grpc`` (needs
  ``opentelemetry-exporter-otlp-proto-grpc``);
* endpoint, headers, timeout, compression: ``OTEL_EXPORTER_OTLP_ENDPOINT``,
  ``OTEL_EXPORTER_OTLP_HEADERS`` … read by the exporter itself;
* service name: ``OTEL_SERVICE_NAME`` / ``OTEL_RESOURCE_ATTRIBUTES``, else
  ``osop``; sampler: ``OTEL_TRACES_SAMPLER`` / ``OTEL_TRACES_SAMPLER_ARG``;
  ``OTEL_SDK_DISABLED=true`` turns everything off.

The providers are this toolkit's own (not the process-global ones), so an
application embedding OSOP keeps its own configuration.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from osop.errors import OsopError

__all__ = ["Telemetry", "setup_telemetry"]

_HINT = "pip install 'osop-toolkit[otel]'"


def _require() -> None:
    try:
        import opentelemetry.sdk.trace  # noqa: F401
    except ImportError as exc:
        raise OsopError(f"tracing needs the OpenTelemetry SDK: {_HINT}") from exc


def _protocol(signal: str) -> str:
    value = os.environ.get(f"OTEL_EXPORTER_OTLP_{signal}_PROTOCOL") or os.environ.get(
        "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"
    )
    return value.strip().lower()


def _span_exporter(endpoint: str | None = None) -> Any | None:
    kind = os.environ.get("OTEL_TRACES_EXPORTER", "otlp").split(",")[0].strip().lower()
    if kind == "none":
        return None
    if kind == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    if kind != "otlp":
        raise OsopError(f"OTEL_TRACES_EXPORTER={kind!r} is not supported (otlp, console, none)")
    protocol = _protocol("TRACES")
    if protocol == "grpc":
        try:
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (  # type: ignore[import-not-found]
                OTLPSpanExporter,
            )
        except ImportError as exc:
            raise OsopError(
                "OTLP over gRPC needs pip install opentelemetry-exporter-otlp-proto-grpc "
                "(or set OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf)"
            ) from exc
        return OTLPSpanExporter()
    if protocol != "http/protobuf":
        raise OsopError(f"OTLP protocol {protocol!r} is not supported (http/protobuf, grpc)")
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
        OTLPSpanExporter as HttpSpanExporter,
    )

    if endpoint and not (
        os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    ):
        return HttpSpanExporter(endpoint=endpoint.rstrip("/") + "/v1/traces")
    return HttpSpanExporter()


def _metric_reader() -> Any | None:
    kind = os.environ.get("OTEL_METRICS_EXPORTER", "otlp").split(",")[0].strip().lower()
    if kind == "none":
        return None
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

    if kind == "console":
        from opentelemetry.sdk.metrics.export import ConsoleMetricExporter

        return PeriodicExportingMetricReader(ConsoleMetricExporter())
    if _protocol("METRICS") == "grpc":
        try:
            from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (  # type: ignore[import-not-found]
                OTLPMetricExporter,
            )
        except ImportError as exc:
            raise OsopError(
                "OTLP over gRPC needs pip install opentelemetry-exporter-otlp-proto-grpc"
            ) from exc
        return PeriodicExportingMetricReader(OTLPMetricExporter())
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
        OTLPMetricExporter as HttpMetricExporter,
    )

    return PeriodicExportingMetricReader(HttpMetricExporter())


def _counting(exporter: Any, telemetry: Telemetry) -> Any:
    """The exporter, counting the spans it failed to send (the SDK only logs them)."""
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

    class Counting(SpanExporter):
        def export(self, spans: Any) -> SpanExportResult:
            result: SpanExportResult = exporter.export(spans)
            if result is not SpanExportResult.SUCCESS:
                telemetry.failed_spans += len(spans)
            return result

        def shutdown(self) -> None:
            exporter.shutdown()

        def force_flush(self, timeout_millis: int = 30000) -> bool:
            return bool(exporter.force_flush(timeout_millis))

    return Counting()


@dataclass
class Telemetry:
    """A tracer and a meter with their providers (shut down to flush)."""

    tracer_provider: Any
    meter_provider: Any | None
    tracer: Any
    meter: Any | None
    #: Spans the exporter could not deliver (endpoint down, refused ...).
    failed_spans: int = 0

    def flush(self) -> None:
        self.tracer_provider.force_flush()
        if self.meter_provider is not None:
            self.meter_provider.force_flush()

    def shutdown(self) -> None:
        self.tracer_provider.shutdown()
        if self.meter_provider is not None:
            self.meter_provider.shutdown()


def setup_telemetry(
    *,
    span_exporter: Any | None = None,
    metric_reader: Any | None = None,
    metrics: bool = True,
    batch: bool = True,
    sampling_rate: float | None = None,
    endpoint: str | None = None,
) -> Telemetry:
    """The SDK per the ``OTEL_*`` variables; tests and benchmarks pass their own exporter.

    ``sampling_rate`` and ``endpoint`` (a workflow's ``observability.tracing``)
    apply only where ``OTEL_TRACES_SAMPLER`` / the OTLP endpoint variables are unset.
    """
    _require()
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    from osop import __version__

    disabled = os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true"
    named = "OTEL_SERVICE_NAME" in os.environ or "service.name=" in os.environ.get(
        "OTEL_RESOURCE_ATTRIBUTES", ""
    )
    resource = Resource.create({} if named else {"service.name": "osop"})
    sampler = None
    if sampling_rate is not None and "OTEL_TRACES_SAMPLER" not in os.environ:
        from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

        sampler = ParentBased(TraceIdRatioBased(max(0.0, min(1.0, sampling_rate))))
    tracer_provider = TracerProvider(resource=resource, sampler=sampler)
    exporter = span_exporter if span_exporter is not None else None
    if exporter is None and not disabled:
        exporter = _span_exporter(endpoint)
    telemetry = Telemetry(
        tracer_provider, None, tracer_provider.get_tracer("osop", __version__), None
    )
    if exporter is not None:
        counted = _counting(exporter, telemetry)
        processor = BatchSpanProcessor(counted) if batch else SimpleSpanProcessor(counted)
        tracer_provider.add_span_processor(processor)
    if metrics and not disabled:
        from opentelemetry.sdk.metrics import MeterProvider

        reader = metric_reader if metric_reader is not None else _metric_reader()
        if reader is not None:
            telemetry.meter_provider = MeterProvider(resource=resource, metric_readers=[reader])
            telemetry.meter = telemetry.meter_provider.get_meter("osop", __version__)
    return telemetry
