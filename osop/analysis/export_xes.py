"""Records as an XES event log (IEEE 1849): a trace per run, events per attempt.

Case = run (``concept:name`` = run id), activity = node id, two events per
attempt — ``lifecycle:transition`` ``start`` and ``complete`` (``ate_abort`` when
the attempt FAILED, TIMED_OUT or was CANCELLED) — with ``time:timestamp`` and
``org:resource`` (human actor, else model, else agent runtime).  SKIPPED node
records did not happen and are left out.  OSOP-specific attributes use the
``osop:`` prefix (attempt, status, node type, cost, error).  The Concept, Time,
Lifecycle and Organizational extensions are declared.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TextIO

from osop.analysis.export_common import attempt_times, format_time, resource_of
from osop.record.model import RunRecord

__all__ = ["write_xes"]

_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ABORTED = {"FAILED", "TIMED_OUT", "CANCELLED"}

_HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1849-2016" xes.features="nested-attributes" xmlns="http://www.xes-standard.org/">
  <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
  <extension name="Time" prefix="time" uri="http://www.xes-standard.org/time.xesext"/>
  <extension name="Lifecycle" prefix="lifecycle" uri="http://www.xes-standard.org/lifecycle.xesext"/>
  <extension name="Organizational" prefix="org" uri="http://www.xes-standard.org/org.xesext"/>
  <global scope="trace">
    <string key="concept:name" value="__INVALID__"/>
  </global>
  <global scope="event">
    <string key="concept:name" value="__INVALID__"/>
    <string key="lifecycle:transition" value="complete"/>
    <date key="time:timestamp" value="1970-01-01T00:00:00.000+00:00"/>
  </global>
  <classifier name="Activity" keys="concept:name"/>
  <classifier name="Activity and transition" keys="concept:name lifecycle:transition"/>
  <string key="concept:name" value="OSOP execution records"/>
"""


def _attr(value: str) -> str:
    text = _INVALID_XML.sub("\ufffd", value)
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\n", "&#10;")
        .replace("\r", "&#13;")
        .replace("\t", "&#9;")
    )


def _string(key: str, value: str, indent: str) -> str:
    return f'{indent}<string key="{key}" value="{_attr(value)}"/>\n'


def _trace(run: RunRecord) -> str:
    out = ["  <trace>\n"]
    out.append(_string("concept:name", run.run_id, "    "))
    out.append(_string("osop:workflow_id", run.workflow_id, "    "))
    if run.workflow_version:
        out.append(_string("osop:workflow_version", run.workflow_version, "    "))
    out.append(_string("osop:status", run.status, "    "))
    if run.mode:
        out.append(_string("osop:mode", run.mode, "    "))
    out.append(f'    <float key="osop:cost_usd" value="{run.total_cost_usd!r}"/>\n')
    events: list[tuple[float, int, str]] = []
    for index, record in enumerate(run.node_records):
        if record.status == "SKIPPED":
            continue
        times = attempt_times(record)
        if times.start is None:
            continue
        resource = resource_of(run, record)
        common = [
            _string("concept:name", record.node_id, "      "),
            _string("osop:node_type", record.node_type, "      "),
            _string("osop:status", record.status, "      "),
            f'      <int key="osop:attempt" value="{record.attempt}"/>\n',
        ]
        if resource:
            common.append(_string("org:resource", resource, "      "))
        if record.iteration is not None:
            common.append(f'      <int key="osop:iteration" value="{record.iteration}"/>\n')
        start = "".join(
            [
                "    <event>\n",
                *common,
                _string("lifecycle:transition", "start", "      "),
                f'      <date key="time:timestamp" value="{format_time(times.start)}"/>\n',
                "    </event>\n",
            ]
        )
        events.append((times.start.timestamp(), 2 * index, start))
        end = times.end if times.end is not None else times.start
        extra = []
        if record.cost_usd:
            extra.append(f'      <float key="osop:cost_usd" value="{record.cost_usd!r}"/>\n')
        if record.error is not None:
            text = record.error.message
            if record.error.code:
                text = f"{record.error.code}: {text}"
            extra.append(_string("osop:error", text[:1000], "      "))
        transition = "ate_abort" if record.status in _ABORTED else "complete"
        finish = "".join(
            [
                "    <event>\n",
                *common,
                *extra,
                _string("lifecycle:transition", transition, "      "),
                f'      <date key="time:timestamp" value="{format_time(end)}"/>\n',
                "    </event>\n",
            ]
        )
        events.append((end.timestamp(), 2 * index + 1, finish))
    events.sort(key=lambda e: (e[0], e[1]))
    out.extend(e[2] for e in events)
    out.append("  </trace>\n")
    return "".join(out)


def write_xes(runs: Iterable[RunRecord], stream: TextIO) -> int:
    """Write an XES log of ``runs`` to ``stream``; returns the number of traces."""
    stream.write(_HEADER)
    count = 0
    for run in runs:
        stream.write(_trace(run))
        count += 1
    stream.write("</log>\n")
    return count
