"""WorkflowStats over many records (binding §7.1).

Definitions (also in docs/analysis.md):

* a *run* is one record; ``success_rate`` = runs whose status is COMPLETED / runs;
* an *execution* is one node run with its retries (a loop iteration is a new
  execution); an *attempt* is one node record that is not SKIPPED;
* ``failure_rate`` = failed attempts (FAILED or TIMED_OUT) / attempts — the
  spec's hotspot measure; ``execution_failure_rate`` counts executions whose
  last attempt failed (what retries could not save);
* a *transient failure* is a failed attempt followed by a successful attempt of
  the same execution; ``retries`` = attempts − executions;
* durations: a run's ``duration_ms`` (else ended − started); an execution's wall
  time from its first attempt's start to its last attempt's end (so retries and
  backoff count); percentiles interpolate linearly between order statistics
  (rank ``p·(n−1)``, like numpy's default and spreadsheet PERCENTILE.INC);
* ``attempt_duration_ms``: each attempt's own duration (``duration_ms``, else
  ended − started) — what a per-attempt timeout applies to;
* human wait = ``human_metadata.response_time_ms`` of human attempts, else the
  attempt's duration;
* cost: ``ai_metadata.cost_usd`` (or ``cost_usd``) of every attempt; a run's cost
  is its ``cost.total_usd`` when given, else the sum of its attempts.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain, compress
from operator import itemgetter
from typing import Any

from osop.analysis.records import PlainRecord, executions_of, record_moments, written_timestamp
from osop.record.model import NodeRecord, RunRecord, parse_timestamp

__all__ = [
    "FAILED_STATUSES",
    "Distribution",
    "NodeStats",
    "StatsAccumulator",
    "WorkflowStats",
    "compute_stats",
    "error_key",
    "percentile",
]

FAILED_STATUSES = frozenset({"FAILED", "TIMED_OUT"})
_STARTED = itemgetter("started_at")
_ATTEMPT = itemgetter("attempt")
#: How many distinct errors ``common_errors`` lists.
TOP_ERRORS = 5


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """Linear-interpolation percentile of already sorted values (``p`` in [0, 1])."""
    if not sorted_values:
        raise ValueError("percentile of nothing")
    rank = p * (len(sorted_values) - 1)
    low = math.floor(rank)
    high = math.ceil(rank)
    if low == high:
        return float(sorted_values[low])
    fraction = rank - low
    return float(sorted_values[low] + (sorted_values[high] - sorted_values[low]) * fraction)


def _mean(values: list[float]) -> float:
    """The mean; values near the float limit are scaled first so the sum cannot overflow."""
    try:
        return math.fsum(values) / len(values)
    except OverflowError:
        return math.fsum(v / len(values) for v in values)


@dataclass(frozen=True, slots=True)
class Distribution:
    """Count, mean, p50, p95, min, max of a list of numbers."""

    count: int
    mean: float
    p50: float
    p95: float
    minimum: float
    maximum: float

    @classmethod
    def of(cls, values: Iterable[float]) -> Distribution | None:
        ordered = sorted(values)
        if not ordered:
            return None
        return cls(
            count=len(ordered),
            mean=_mean(ordered),
            p50=percentile(ordered, 0.5),
            p95=percentile(ordered, 0.95),
            minimum=ordered[0],
            maximum=ordered[-1],
        )

    def to_dict(self, digits: int = 3) -> dict[str, Any]:
        return {
            "count": self.count,
            "mean": round(self.mean, digits),
            "p50": round(self.p50, digits),
            "p95": round(self.p95, digits),
            "min": round(self.minimum, digits),
            "max": round(self.maximum, digits),
        }


def error_key(record: NodeRecord) -> str:
    """``CODE: message`` (or what there is) — errors are counted under this text."""
    error = record.error
    if error is None:
        return record.status
    if error.code and error.message and error.message != error.code:
        return f"{error.code}: {error.message}"
    return error.code or error.message


def _common(counter: Counter[str]) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:TOP_ERRORS]


#: Values a block holds before it is packed (see :class:`_Values`).
_BLOCK = 4096
#: Values kept as they are before blocks are packed: packing costs ~0.3 µs a value
#: (~5 % of `osop stats` when every block is packed), worth it only where memory
#: grows (512 KB a node here; from there on 4 bytes a value instead of 8).
_PACK_FROM = 16 * _BLOCK
_times_thousand = (1000.0).__mul__
_per_thousand = (1000).__rtruediv__  # k -> k / 1000, correctly rounded


def _packed(block: array[float]) -> array[int] | array[float]:
    """``block`` as thousandths in 32-bit integers (4 bytes a value, not 8) when each
    value is exactly ``k / 1000`` again (what a record's ``round(ms, 3)`` and
    millisecond timestamps give), else ``block`` itself. C loops, no Python per value:
    ~0.25 µs a value (a block of 4,096 in ~1 ms).
    """
    try:
        # past 32 bits (35 minutes) OverflowError, NaN ValueError, infinity OverflowError
        thousandths = array("i", map(round, map(_times_thousand, block)))
    except (ValueError, OverflowError):
        return block
    # the very same bits (a -0.0, equal to 0.0 but shown as "-0.0", is not 0 / 1000)
    if array("d", map(_per_thousand, thousandths)).tobytes() != block.tobytes():
        return block
    return thousandths


class _Values:
    """Numbers kept compactly and in order, for exact percentiles of millions of them.

    Floats are appended to ``floats`` (``array('d')``: 8 bytes a value, not 32); past
    :data:`_PACK_FROM` values, each full block of :data:`_BLOCK` is packed as
    thousandths in 32-bit integers when that gives back every value exactly
    (:func:`_packed`: 4 bytes a value). Execution
    durations are floats, except a record's integer ``duration_ms``, which the output
    shows as written (``126``, not ``126.0``): from the first one on, every value is
    kept as an object in ``objects`` — the exact values, in order.
    """

    __slots__ = ("blocks", "floats", "objects", "sealed")

    def __init__(self) -> None:
        self.blocks: list[array[Any]] = []  # full blocks: thousandths ("i") or floats ("d")
        self.sealed = 0  # values in `blocks`
        self.floats = array("d")  # the block being filled
        self.objects: list[float] | None = None

    def append(self, value: float) -> None:
        if self.objects is None:
            if type(value) is float:
                self.floats.append(value)
                if len(self.floats) == _BLOCK:
                    self.seal()
                return
            self.objects = list(self)
            self.blocks, self.sealed, self.floats = [], 0, array("d")
        self.objects.append(value)

    def seal(self) -> None:
        """Pack the full block (callers that append to ``floats`` directly call this)."""
        self.blocks.append(_packed(self.floats) if self.sealed >= _PACK_FROM else self.floats)
        self.sealed += len(self.floats)
        self.floats = array("d")

    def __len__(self) -> int:
        return len(self.objects) if self.objects is not None else self.sealed + len(self.floats)

    def unpacked(self) -> Sequence[float]:
        """The values, unpacked once (the figures read them twice; one node at a time)."""
        return self.objects if self.objects is not None else array("d", self)

    def __iter__(self) -> Iterator[float]:
        if self.objects is not None:
            return iter(self.objects)
        parts: list[Iterable[float]] = [
            block if block.typecode == "d" else map(_per_thousand, block) for block in self.blocks
        ]
        parts.append(self.floats)
        return chain.from_iterable(parts)


def _add(values: _Values, value: float) -> None:
    """Keep a duration only when it is a real one (records may say ``.inf`` or ``-5``)."""
    if math.isfinite(value) and value >= 0:
        values.append(value)


def _money(value: float) -> float:
    return value if math.isfinite(value) else 0.0


def _rate(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


@dataclass
class NodeStats:
    """Figures for one node over all runs of one workflow version."""

    node_id: str
    node_type: str
    runs_with_node: int
    executions: int
    attempts: int
    failed_attempts: int
    failed_executions: int
    transient_failures: int
    timed_out: int
    skipped: int
    duration_ms: Distribution | None
    human_wait_ms: Distribution | None
    total_cost_usd: float
    errors: list[tuple[str, int]] = field(default_factory=list)
    #: one attempt's own duration (what a per-attempt timeout applies to)
    attempt_duration_ms: Distribution | None = None

    @property
    def retries(self) -> int:
        return self.attempts - self.executions

    @property
    def failure_rate(self) -> float:
        return _rate(self.failed_attempts, self.attempts)

    @property
    def execution_failure_rate(self) -> float:
        return _rate(self.failed_executions, self.executions)

    @property
    def avg_cost_usd(self) -> float:
        return self.total_cost_usd / self.executions if self.executions else 0.0

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "node_type": self.node_type,
            "runs_with_node": self.runs_with_node,
            "executions": self.executions,
            "attempts": self.attempts,
            "failed_attempts": self.failed_attempts,
            "failure_rate": round(self.failure_rate, 6),
            "execution_failure_rate": round(self.execution_failure_rate, 6),
            "retries": self.retries,
            "transient_failures": self.transient_failures,
            "timed_out": self.timed_out,
            "skipped": self.skipped,
        }
        if self.duration_ms is not None:
            out["avg_duration_ms"] = round(self.duration_ms.mean, 3)
            out["p50_duration_ms"] = round(self.duration_ms.p50, 3)
            out["p95_duration_ms"] = round(self.duration_ms.p95, 3)
            out["max_duration_ms"] = round(self.duration_ms.maximum, 3)
        if self.attempt_duration_ms is not None:
            out["attempt_duration_ms"] = self.attempt_duration_ms.to_dict()
        if self.human_wait_ms is not None:
            out["human_wait_ms"] = self.human_wait_ms.to_dict()
        out["total_cost_usd"] = round(self.total_cost_usd, 6)
        out["avg_cost_usd"] = round(self.avg_cost_usd, 6)
        out["common_errors"] = [{"error": e, "count": c} for e, c in self.errors]
        return out


@dataclass
class WorkflowStats:
    """Binding §7.1 for one workflow id and version."""

    workflow_id: str
    workflow_version: str | None
    total_runs: int
    status_counts: dict[str, int]
    duration_ms: Distribution | None
    total_cost_usd: float
    human_wait_ms: Distribution | None
    node_stats: dict[str, NodeStats]
    errors: list[tuple[str, int]]

    @property
    def success_rate(self) -> float:
        return _rate(self.status_counts.get("COMPLETED", 0), self.total_runs)

    @property
    def avg_cost_usd(self) -> float:
        return self.total_cost_usd / self.total_runs if self.total_runs else 0.0

    @property
    def retries(self) -> int:
        return sum(n.retries for n in self.node_stats.values())

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "workflow_id": self.workflow_id,
            "workflow_version": self.workflow_version,
            "total_runs": self.total_runs,
            "status_counts": dict(sorted(self.status_counts.items())),
            "success_rate": round(self.success_rate, 6),
        }
        if self.duration_ms is not None:
            out["avg_duration_ms"] = round(self.duration_ms.mean, 3)
            out["p50_duration_ms"] = round(self.duration_ms.p50, 3)
            out["p95_duration_ms"] = round(self.duration_ms.p95, 3)
        out["total_cost_usd"] = round(self.total_cost_usd, 6)
        out["avg_cost_usd"] = round(self.avg_cost_usd, 6)
        out["retries"] = self.retries
        if self.human_wait_ms is not None:
            out["human_wait_ms"] = self.human_wait_ms.to_dict()
        out["common_errors"] = [{"error": e, "count": c} for e, c in self.errors]
        out["node_stats"] = {k: v.to_dict() for k, v in self.node_stats.items()}
        return out


class _NodeAccumulator:
    __slots__ = (
        "attempt_durations",
        "attempts",
        "cost",
        "durations",
        "errors",
        "executions",
        "failed_attempts",
        "failed_executions",
        "node_type",
        "not_attempts",
        "runs",
        "skipped",
        "timed_out",
        "transient",
        "waits",
    )

    def __init__(self, node_type: str) -> None:
        self.node_type = node_type
        self.runs = 0
        self.executions = 0
        self.attempts = 0
        self.failed_attempts = 0
        self.failed_executions = 0
        self.transient = 0
        self.timed_out = 0
        self.skipped = 0
        # 4 bytes a value, not 32: 100,000 records hold millions of them
        self.durations = _Values()  # an int duration_ms stays an int (as in the output)
        # An attempt's own duration is nearly always its execution's too (the same
        # float): then it is kept once; `not_attempts` lists the execution durations
        # that are not also an attempt's (by position: a few, where retries are), and
        # `attempt_durations` holds the attempts' other ones. Percentiles sort the
        # values, so which array holds one does not matter (zeros are never shared:
        # -0.0 and 0.0 keep their order).
        self.not_attempts = array("q")
        self.attempt_durations = _Values()
        self.waits = _Values()
        self.cost = 0.0
        self.errors: Counter[str] = Counter()

    def add_duration(self, duration: float | None) -> None:
        """An execution's duration (not one of its attempts'), when it is a real one."""
        if duration is not None and 0 <= duration < math.inf:
            self.not_attempts.append(len(self.durations))
            self.durations.append(duration)

    def attempt_values(self, durations: Sequence[float] | None = None) -> Iterator[float]:
        """Every attempt duration: those kept with the executions', then the others
        (``durations``: the execution durations already unpacked, if at hand)."""
        executions = self.durations if durations is None else durations
        if not self.not_attempts:
            return chain(executions, self.attempt_durations)
        also = bytearray(b"\x01") * len(executions)
        for position in self.not_attempts:
            also[position] = 0
        return chain(compress(executions, also), self.attempt_durations)


class _WorkflowAccumulator:
    def __init__(self, workflow_id: str, version: str | None) -> None:
        self.workflow_id = workflow_id
        self.version = version
        self.statuses: Counter[str] = Counter()
        self.durations = _Values()
        self.cost = 0.0
        self.nodes: dict[str, _NodeAccumulator] = {}

    def add(self, record: RunRecord) -> None:
        self.statuses[record.status] += 1
        seconds = record.duration_seconds
        if seconds is not None:
            _add(self.durations, seconds * 1000.0)
        self.cost += _money(record.total_cost_usd)
        breakdown = _breakdown(record)
        seen: set[str] = set()
        for execution in executions_of(record):
            acc = self.nodes.get(execution.node_id)
            if acc is None:
                acc = self.nodes[execution.node_id] = _NodeAccumulator(execution.node_type)
            ran = [a for a in execution.attempts if a.status != "SKIPPED"]
            acc.skipped += len(execution.attempts) - len(ran)
            if not ran:
                continue
            if execution.node_id not in seen:
                seen.add(execution.node_id)
                acc.runs += 1
            acc.executions += 1
            acc.attempts += len(ran)
            failed_so_far = 0
            for attempt in ran:
                seconds = attempt.duration_seconds
                if seconds is not None:
                    _add(acc.attempt_durations, seconds * 1000.0)
                if attempt.status in FAILED_STATUSES:
                    failed_so_far += 1
                    acc.failed_attempts += 1
                    acc.errors[error_key(attempt)] += 1
                    if attempt.status == "TIMED_OUT":
                        acc.timed_out += 1
                elif attempt.status == "COMPLETED":
                    acc.transient += failed_so_far
                    failed_so_far = 0
                if attempt.node_type == "human":
                    wait = (attempt.human_metadata or {}).get("response_time_ms")
                    if isinstance(wait, int | float) and not isinstance(wait, bool):
                        _add(acc.waits, float(wait))
                    elif attempt.duration_seconds is not None:
                        _add(acc.waits, attempt.duration_seconds * 1000.0)
            if ran[-1].status in FAILED_STATUSES:
                acc.failed_executions += 1
            acc.add_duration(execution.duration_ms)
            cost = sum(a.cost_usd for a in execution.attempts)
            if not cost and execution.occurrence == 1:
                cost = breakdown.get(execution.node_id, 0.0)
            acc.cost += _money(cost)

    def add_plain(self, head: RunRecord, nodes: list[dict[str, Any]]) -> None:
        """:meth:`add` for node records in the written form, read as plain data.

        The same figures as :meth:`add` on the full record, without an object per
        attempt or execution: over 10,000 records those objects cost more than
        reading the files.
        """
        self.statuses[head.status] += 1
        seconds = head.duration_seconds
        if seconds is not None:
            _add(self.durations, seconds * 1000.0)
        total = (head.cost or {}).get("total_usd")
        if isinstance(total, int | float) and head.cost:
            self.cost += _money(float(total))
        else:
            # only these carry a cost (_plain_cost of any other is 0.0, which adds nothing)
            self.cost += _money(
                sum(_plain_cost(n) for n in nodes if "ai_metadata" in n or "cost_usd" in n)
            )
        breakdown = _breakdown(head)
        has_breakdown = bool(breakdown)
        accumulators = self.nodes
        failed_statuses = FAILED_STATUSES
        seen: set[str] = set()
        occurred: set[str] = set()
        moments = record_moments(nodes)
        isfinite = math.isfinite
        inf = math.inf
        # executions_of on plain data: attempts in order of start (file order on ties)
        starts = [inf if v is None else v for v in map(moments.__getitem__, map(_STARTED, nodes))]
        by_start = sorted(range(len(nodes)), key=starts.__getitem__)  # a stable sort
        executions: list[list[dict[str, Any]]]
        if len(set(map(_ATTEMPT, nodes))) == 1:
            # every attempt numbered alike (no retry): no attempt continues another
            executions = [[node] for node in map(nodes.__getitem__, by_start)]
        else:
            open_execution: dict[str, list[dict[str, Any]]] = {}
            executions = []
            for node in map(nodes.__getitem__, by_start):
                current = open_execution.get(node["node_id"])
                if (
                    current is not None
                    and node["attempt"] > current[-1]["attempt"]
                    and node.get("iteration") == current[-1].get("iteration")
                ):
                    current.append(node)
                    continue
                open_execution[node["node_id"]] = fresh = [node]
                executions.append(fresh)

        for attempts in executions:
            last = attempts[-1]
            node_id = last["node_id"]
            # the node's first execution in this run (it alone may take a breakdown cost)
            first = has_breakdown and node_id not in occurred
            if first:
                occurred.add(node_id)
            acc = accumulators.get(node_id)
            if acc is None:
                acc = accumulators[node_id] = _NodeAccumulator(last["node_type"])
            if len(attempts) == 1:  # the common case, no retry: the general code, unrolled
                status = last["status"]
                if status == "SKIPPED":
                    acc.skipped += 1
                    continue
                if node_id not in seen:
                    seen.add(node_id)
                    acc.runs += 1
                acc.executions += 1
                acc.attempts += 1
                measured = last.get("duration_ms")
                seconds = measured / 1000.0 if measured is not None else _plain_seconds(last)
                value = None  # the attempt's own duration, once known to be a real one
                if seconds is not None:
                    value = seconds * 1000.0
                    if not 0 <= value < inf:  # finite and not negative (NaN is neither)
                        value = None
                if status in failed_statuses:
                    acc.failed_attempts += 1
                    acc.errors[_plain_error_key(last)] += 1
                    if status == "TIMED_OUT":
                        acc.timed_out += 1
                    acc.failed_executions += 1
                if last["node_type"] == "human":
                    _add_wait(acc, last, seconds)
                # _plain_execution_ms of one attempt
                start = moments[last["started_at"]]
                end = moments[last.get("ended_at")]
                if start is not None and end is not None:
                    span = (end - start) * 1000.0
                    # The wall time is round(span, 3), which moves span by at most 0.0005
                    # and costs ~0.3 µs (a decimal conversion): a measure more than 0.001
                    # inside the 1 ms band agrees with it either way, so only a measure
                    # that disagrees or sits at the band's edge needs it (stats over
                    # 10,000 records: ~0.05 s less).
                    if measured is not None and -0.999 < measured - span < 0.999:
                        duration: float | None = 0.0 if measured < 0.0 else measured  # max()
                    else:
                        wall = round(span, 3)
                        # wall is finite: an infinite or NaN measure is never within 1 ms
                        if measured is not None and -1.0 < measured - wall < 1.0:
                            duration = 0.0 if measured < 0.0 else measured
                        else:
                            duration = wall
                else:
                    duration = 0.0 + seconds * 1000.0 if seconds is not None else None
                if duration is not None and 0 <= duration < inf:
                    durations = acc.durations
                    if value and value == duration and type(duration) is float:
                        value = None  # the same float: kept once
                    else:
                        acc.not_attempts.append(len(durations))
                    if durations.objects is None and type(duration) is float:
                        floats = durations.floats  # _Values.append, inlined
                        floats.append(duration)
                        if len(floats) == _BLOCK:
                            durations.seal()
                    else:
                        durations.append(duration)
                if value is not None:
                    acc.attempt_durations.append(value)
                cost = 0.0
                if "ai_metadata" in last or "cost_usd" in last:
                    cost += _plain_cost(last)
                if not cost and first:
                    cost = breakdown.get(node_id, 0.0)
                if cost and isfinite(cost):  # _money; adding 0.0 changes nothing
                    acc.cost += cost
                continue
            ran = [a for a in attempts if a["status"] != "SKIPPED"]
            acc.skipped += len(attempts) - len(ran)
            if not ran:
                continue
            if node_id not in seen:
                seen.add(node_id)
                acc.runs += 1
            acc.executions += 1
            acc.attempts += len(ran)
            failed_so_far = 0
            cost = 0.0
            for attempt in ran:
                # NodeRecord.duration_seconds, _add inlined (this loop runs per attempt)
                measured = attempt.get("duration_ms")
                seconds = measured / 1000.0 if measured is not None else _plain_seconds(attempt)
                if seconds is not None:
                    value = seconds * 1000.0
                    if isfinite(value) and value >= 0:
                        acc.attempt_durations.append(value)
                status = attempt["status"]
                if status == "COMPLETED":
                    acc.transient += failed_so_far
                    failed_so_far = 0
                elif status in FAILED_STATUSES:
                    failed_so_far += 1
                    acc.failed_attempts += 1
                    acc.errors[_plain_error_key(attempt)] += 1
                    if status == "TIMED_OUT":
                        acc.timed_out += 1
                if attempt["node_type"] == "human":
                    _add_wait(acc, attempt, seconds)
            if ran[-1]["status"] in FAILED_STATUSES:
                acc.failed_executions += 1
            acc.add_duration(_plain_execution_ms(attempts, moments))
            for attempt in attempts:
                if "ai_metadata" in attempt or "cost_usd" in attempt:
                    cost += _plain_cost(attempt)
            if not cost and first:
                cost = breakdown.get(node_id, 0.0)
            acc.cost += _money(cost)

    def finish(self) -> WorkflowStats:
        node_stats: dict[str, NodeStats] = {}
        for node_id, acc in self.nodes.items():
            durations = acc.durations.unpacked()
            node_stats[node_id] = NodeStats(
                node_id=node_id,
                node_type=acc.node_type,
                runs_with_node=acc.runs,
                executions=acc.executions,
                attempts=acc.attempts,
                failed_attempts=acc.failed_attempts,
                failed_executions=acc.failed_executions,
                transient_failures=acc.transient,
                timed_out=acc.timed_out,
                skipped=acc.skipped,
                duration_ms=Distribution.of(durations),
                human_wait_ms=Distribution.of(acc.waits),
                total_cost_usd=acc.cost,
                errors=_common(acc.errors),
                attempt_duration_ms=Distribution.of(acc.attempt_values(durations)),
            )
        all_errors: Counter[str] = Counter()
        waits = array("d")
        for acc in self.nodes.values():
            all_errors.update(acc.errors)
            waits.extend(acc.waits)
        return WorkflowStats(
            workflow_id=self.workflow_id,
            workflow_version=self.version,
            total_runs=sum(self.statuses.values()),
            status_counts=dict(self.statuses),
            duration_ms=Distribution.of(self.durations),
            total_cost_usd=self.cost,
            human_wait_ms=Distribution.of(waits),
            node_stats=node_stats,
            errors=_common(all_errors),
        )


def _breakdown(record: RunRecord) -> dict[str, float]:
    """``cost.breakdown`` as node → USD (used only for nodes whose attempts carry no cost)."""
    rows = (record.cost or {}).get("breakdown")
    out: dict[str, float] = {}
    if isinstance(rows, list):
        for row in rows:
            if isinstance(row, dict) and isinstance(row.get("cost_usd"), int | float):
                node_id = str(row.get("node_id", ""))
                out[node_id] = out.get(node_id, 0.0) + float(row["cost_usd"])
    return out


class StatsAccumulator:
    """WorkflowStats built one record at a time: a record is not kept once added.

    ``add_plain`` takes a :class:`~osop.analysis.records.PlainRecord` (the fast
    path for records in the written form); ``add`` a full record.
    """

    def __init__(self) -> None:
        self._groups: dict[tuple[str, str | None], _WorkflowAccumulator] = {}

    def _group(self, record: RunRecord) -> _WorkflowAccumulator:
        key = (record.workflow_id, record.workflow_version)
        acc = self._groups.get(key)
        if acc is None:
            acc = self._groups[key] = _WorkflowAccumulator(*key)
        return acc

    def add(self, record: RunRecord) -> None:
        self._group(record).add(record)

    def add_plain(self, plain: PlainRecord) -> None:
        if plain.nodes is None:
            self.add(plain.head)
        else:
            self._group(plain.head).add_plain(plain.head, plain.nodes)

    def finish(self) -> list[WorkflowStats]:
        """WorkflowStats per (workflow id, version), in order of first appearance."""
        return [acc.finish() for acc in self._groups.values()]


def compute_stats(records: Iterable[RunRecord]) -> list[WorkflowStats]:
    """WorkflowStats per (workflow id, version), in order of first appearance."""
    acc = StatsAccumulator()
    for record in records:
        acc.add(record)
    return acc.finish()


# --- the plain-data path (see _WorkflowAccumulator.add_plain) ---------------------------


def _plain_seconds(node: dict[str, Any]) -> float | None:
    """``NodeRecord.duration_seconds`` of a plain node record."""
    duration = node.get("duration_ms")
    if duration is not None:
        return float(duration / 1000.0)
    start, end = parse_timestamp(node["started_at"]), parse_timestamp(node.get("ended_at"))
    if start is not None and end is not None:
        return (end - start).total_seconds()
    return None


def _plain_execution_ms(
    attempts: list[dict[str, Any]], moments: dict[str | None, float | None]
) -> float | None:
    """``NodeExecution.duration_ms`` of plain attempts (``moments``: timestamps parsed)."""
    start = moments[attempts[0]["started_at"]]
    text = attempts[-1].get("ended_at")
    end = moments[text] if text in moments else moments.setdefault(text, written_timestamp(text))
    if start is not None and end is not None:
        wall = round((end - start) * 1000.0, 3)
        measured: float | None = attempts[0].get("duration_ms") if len(attempts) == 1 else None
        if measured is not None and math.isfinite(measured) and abs(measured - wall) < 1.0:
            return max(measured, 0.0)  # as NodeExecution.duration_ms: an int stays an int
        return wall
    total = 0.0
    for attempt in attempts:
        seconds = _plain_seconds(attempt)
        if seconds is None:
            return None
        total += seconds * 1000.0
    return total


def _add_wait(acc: _NodeAccumulator, attempt: dict[str, Any], seconds: float | None) -> None:
    """A human attempt's wait: ``human_metadata.response_time_ms``, else its duration."""
    wait = (attempt.get("human_metadata") or {}).get("response_time_ms")
    if isinstance(wait, int | float) and not isinstance(wait, bool):
        _add(acc.waits, float(wait))
    elif seconds is not None:
        _add(acc.waits, seconds * 1000.0)


def _plain_cost(node: dict[str, Any]) -> float:
    """``NodeRecord.cost_usd`` of a plain node record."""
    ai = node.get("ai_metadata") or {}
    value = ai.get("cost_usd")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    value = node.get("cost_usd")  # not a node record field: NodeRecord.extra holds it
    return float(value) if isinstance(value, int | float) else 0.0


def _plain_error_key(node: dict[str, Any]) -> str:
    """:func:`error_key` of a plain node record."""
    error = node.get("error")
    if error is None:
        return str(node["status"])
    raw_code, raw_message = error.get("code"), error.get("message")
    code = str(raw_code) if raw_code is not None else None
    message = str(raw_message) if raw_message is not None else str(raw_code or "error")
    if code and message and message != code:
        return f"{code}: {message}"
    return code or message
