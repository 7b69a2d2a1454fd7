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
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import accumulate, chain, compress, cycle, groupby, repeat
from operator import add, itemgetter, mul, sub, truediv
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
    return _interpolated(sorted_values.__getitem__, len(sorted_values), p)


def _interpolated(at: Callable[[int], float], count: int, p: float) -> float:
    """:func:`percentile` of ``count`` sorted values, ``at(rank)`` giving each."""
    rank = p * (count - 1)
    low = math.floor(rank)
    high = math.ceil(rank)
    if low == high:
        return float(at(low))
    fraction = rank - low
    return float(at(low) + (at(high) - at(low)) * fraction)


def _mean(values: Callable[[], Iterable[float]], count: int) -> float:
    """The mean of the ``count`` values ``values()`` gives (in sorted order, as fsum saw
    them before); values near the float limit are scaled first so the sum cannot overflow."""
    try:
        return math.fsum(values()) / count
    except OverflowError:
        return math.fsum(v / count for v in values())


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
            mean=_mean(lambda: ordered, len(ordered)),
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


#: Values a block holds before it is sealed (see :class:`_Values`).
_BLOCK = 4096
#: Values a `_Values` keeps as they come (8 bytes each) before it tallies them: a
#: tally costs ~0.1 µs a value where durations repeat (whole milliseconds) and
#: ~0.3 µs where nearly all differ (microseconds), paid only past this many values
#: (128 KB a node), so stats over up to 16,384 records never pay it.
_TALLY_FROM = 4 * _BLOCK
#: Values this large (2**52 ms: 142,000 years) are kept as they are, in order. Below
#: it an integer gives the very figures its float gives (converted exactly, and the
#: difference of two such is exact too), so only the smallest and largest value need
#: to remember which they were.
_EXACT_LIMIT = 2.0**52
#: Sealed blocks wait to be counted into the tally until they hold this many times
#: as many values as it has distinct ones: merging costs ~0.2 µs a distinct value
#: of either side, so where nearly all values differ (microseconds) each is merged
#: ~1.1 times, not ~2 (100,000 such values: 1.6 -> 1.2 µs a value, 724 -> 519 KB
#: kept, waiting blocks packed), and where they repeat (whole milliseconds) at most
#: ~8 x the distinct values wait, packed once that is over 4 blocks.
_SPREAD = 8
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


#: Values of the largest run a slice of a merge holds (see :func:`_merged`).
_MERGE_SLICE = 8192
_is_zero = (0.0).__eq__
_SIGNED_ZEROS = cycle((0.0, -0.0))  # the signs of the runs of `zeros`, in turn

# A run: distinct values in ascending order (the zero class as 0.0 or 0) and their
# counts. Keys are thousandths in 32-bit integers ("i": 4 bytes a distinct value, as
# `_packed` keeps a block) when every value of the run is exactly one, else floats
# ("d"). A run built from a sorted block has no counts (None): each key once, equal
# keys next to each other (see `_tally_raw`); a merge's result always has them.
_Run = tuple["array[Any]", "array[int] | None"]
_Counted = tuple["array[Any]", "array[int]"]  # a run with its counts
_COUNT_CODES = (("B", 1 << 8), ("H", 1 << 16), ("I", 1 << 32), ("Q", 1 << 64))


def _count_code(top: int) -> str:
    """The narrowest array type holding counts up to ``top`` (1 byte where values differ)."""
    return next(code for code, limit in _COUNT_CODES if top < limit)


def _counts(counts: Sequence[int]) -> array[int]:
    """``counts`` in the narrowest array that holds them."""
    return array(_count_code(max(counts, default=0)), counts)


def _run_of(block: array[Any]) -> _Counted:
    """The run of a block (floats, or thousandths as `_packed` gives them): C loops
    (Counter, sort), no Python per value. Distinct floats that are all thousandths
    are packed, so their keys are 4 bytes too (the distinct ones only: packing every
    value of the blocks tallied at the end cost ~3 % of `osop stats` on 10,000 records)."""
    tally = Counter(block)
    if block.typecode == "d" and 0.0 in tally:  # -0.0 and 0.0 are one key, kept as 0.0
        tally[0.0] = tally.pop(0.0)  # (the zero class's signs are kept apart)
    keys = sorted(tally)
    counts = _counts(list(map(tally.__getitem__, keys)))
    return (_packed(array("d", keys)) if block.typecode == "d" else array("i", keys)), counts


def _as_floats(run: _Run) -> _Run:
    keys, counts = run
    return (keys if keys.typecode == "d" else array("d", map(_per_thousand, keys))), counts


def _key_value(keys: array[Any]) -> Callable[[Any], float]:
    """What gives the float of one of a run's ``keys`` (thousandths, or floats)."""
    return float if keys.typecode == "d" else _per_thousand


def _merged(added: Sequence[_Run], removed: Sequence[_Run] = ()) -> _Counted:
    """One run of the values of ``added`` less those of ``removed``.

    C loops: per slice of the value range, a dict of its distinct values updated run
    by run (its keys come in a few ascending stretches, which the sort merges). The
    slices hold ~:data:`_MERGE_SLICE` distinct values of all runs, so the dict (~100
    bytes an entry) stays near 1 MB where one for 100,000 distinct values took ~10 MB
    at the moment of the peak. Keys and counts are written out slice by slice into
    their narrowest arrays (thousandths where every run's are; 8-byte counts for
    every distinct value set the peak at the end of 100,000 runs).
    """
    runs = [*added, *removed]
    thousandths = all(run[0].typecode != "d" for run in runs)
    if not thousandths:  # rare (a value that is no number of thousandths): all as floats
        runs = list(map(_as_floats, runs))
    largest = max(runs, key=lambda run: len(run[0]))[0]
    # slices of ~_MERGE_SLICE distinct values of all runs together (as the largest spreads)
    stride = max(1, _MERGE_SLICE * len(largest) // max(1, sum(len(run[0]) for run in runs)))
    edges = [*largest[stride::stride], math.inf]
    keys_out: array[Any] = array("i" if thousandths else "d")
    counts_out: array[int] = array("B")
    top = 1 << 8
    start = [0] * len(runs)
    for edge in edges:
        tally: dict[float, int] = {}
        get = tally.get
        for number, (keys, counts) in enumerate(runs):
            first, end = start[number], bisect_left(keys, edge)
            start[number] = end
            if first == end:
                continue
            part = keys[first:end]
            sizes: Iterable[int] = repeat(1) if counts is None else counts[first:end]
            combine = add if number < len(added) else sub
            # lazily, so equal keys of one sorted block add up as they come
            tally.update(zip(part, map(combine, map(get, part, repeat(0)), sizes), strict=True))
        distinct = sorted(compress(tally, tally.values()) if removed else tally)
        keys_out.extend(distinct)
        numbers = list(map(tally.__getitem__, distinct))
        if numbers and max(numbers) >= top:  # widen the counts (rare: by a byte or two)
            code = _count_code(max(numbers))
            top = dict(_COUNT_CODES)[code]
            counts_out = array(code, counts_out)
        counts_out.extend(numbers)
    return keys_out, counts_out


def _add_zeros(zeros: list[int], negative: bool, count: int) -> None:
    """Append ``count`` zeros of one sign to ``zeros`` (run lengths: +0.0 first, then
    -0.0, +0.0, ... alternately)."""
    if zeros and (len(zeros) - 1) % 2 == negative:  # the last run has this sign
        zeros[-1] += count
    elif zeros or not negative:
        zeros.append(count)
    else:
        zeros.extend((0, count))  # no +0.0 first


def _zero_at(zeros: list[int], position: int) -> float:
    """The zero at ``position`` (0-based) of the zero class, in the order it came."""
    for run, count in enumerate(zeros):
        if position < count:
            return -0.0 if run % 2 else 0.0
        position -= count
    raise IndexError(position)


class _Values:
    """Numbers tallied for exact percentiles of millions of them, in memory that grows
    with the number of *distinct* values, not of values.

    Floats are appended to ``floats`` (``array('d')``, the block being filled); a
    full block of :data:`_BLOCK` is *sealed*: kept as it is up to :data:`_TALLY_FROM`
    values, from there on (and for all of them at the end) counted into the *tally*
    — distinct values ascending and their counts — when the blocks waiting hold
    :data:`_SPREAD` times as many values as the tally has distinct ones. Durations
    come at millisecond or microsecond resolution over a bounded range, so the
    distinct values stop growing: 100,000 records with durations in whole
    milliseconds cost about what 10,000 do.

    What a sort would give is kept apart from the runs, exactly: the smallest value
    as it first came and the largest as it last came (a stable sort puts them first
    and last: an integer ``duration_ms`` is shown as written, ``126`` not ``126.0``),
    the order of the signs of zeros (``-0.0`` is shown as such), and values past
    :data:`_EXACT_LIMIT` as they are. Non-float values are appended with
    :meth:`append`, which notes them in ``odd`` (the block holds a placeholder).

    ``marks`` (positions, ascending) and ``marked``: when a block is sealed, its
    values at those positions are also appended to ``marked`` and the marks dropped
    (how an accumulator keeps the execution durations that are not an attempt's).
    """

    __slots__ = (
        "big",
        "counted",
        "floats",
        "hi",
        "lo",
        "marked",
        "marks",
        "odd",
        "raw",
        "sealed",
        "tallied",
        "waiting",
        "zeros",
    )

    def __init__(self) -> None:
        self.floats = array("d")  # the block being filled
        self.odd: list[tuple[int, float]] = []  # (position in the block, value): not floats
        self.sealed = 0  # values in sealed blocks
        self.raw: list[array[Any]] = []  # sealed blocks not tallied yet: floats, or _packed
        self.waiting = 0  # values in `raw`
        self.tallied: _Counted = (array("i"), array("B"))
        self.counted = 0  # values in the tally
        self.zeros: list[int] = []  # the zero class's signs in order (see _add_zeros)
        self.lo: float | None = None  # the smallest value below _EXACT_LIMIT, as it first came
        self.hi: float | None = None  # the largest one, as it last came
        self.big: list[float] = []  # values past _EXACT_LIMIT, in order
        self.marks: array[int] | None = None
        self.marked: _Values | None = None

    def append(self, value: float) -> None:
        if type(value) is not float:
            self.odd.append((len(self.floats), value))
            value = 0.0  # a placeholder: sealing takes the value from `odd`
        self.floats.append(value)
        if len(self.floats) == _BLOCK:
            self.seal()

    def extend(self, values: Sequence[float]) -> None:
        if set(map(type, values)) - {float}:  # not floats alone: one at a time
            for value in values:
                self.append(value)
            return
        while values:
            room = _BLOCK - len(self.floats)
            self.floats.extend(values[:room])
            values = values[room:]
            if len(self.floats) == _BLOCK:
                self.seal()

    def __len__(self) -> int:
        return self.sealed + len(self.floats)

    def seal(self) -> None:
        """Seal the block being filled (callers that append to ``floats`` directly call
        this when it is full; :meth:`tally` seals a part-filled one)."""
        block, odd = self.floats, self.odd
        self.floats, self.odd = array("d"), []
        if not block:
            return
        base = self.sealed
        self.sealed += len(block)
        low, high = min(block), max(reversed(block))  # the first smallest, the last largest
        values: Sequence[float] = block
        if odd or low <= -_EXACT_LIMIT or high >= _EXACT_LIMIT:  # rare: the exact values
            exact = list(block)
            for position, value in odd:
                exact[position] = value
            values = exact
        if self.marks:
            assert self.marked is not None
            self.marked.extend(list(map(values.__getitem__, map(sub, self.marks, repeat(base)))))
            del self.marks[:]
        if values is not block:
            if min(values) <= -_EXACT_LIMIT or max(values) >= _EXACT_LIMIT:
                self.big.extend(v for v in values if not -_EXACT_LIMIT < v < _EXACT_LIMIT)
                values = [v for v in values if -_EXACT_LIMIT < v < _EXACT_LIMIT]
                if not values:
                    return
            low, high = min(values), max(reversed(values))
            block = array("d", values)  # integers as floats: exact below _EXACT_LIMIT
        if self.lo is None or low < self.lo:
            self.lo = low
        if self.hi is None or high >= self.hi:
            self.hi = high
        if low <= 0.0 <= high and 0.0 in block:
            signs = list(map(math.copysign, repeat(1.0), filter(_is_zero, block)))
            if -1.0 not in signs or 1.0 not in signs:
                _add_zeros(self.zeros, signs[0] < 0, len(signs))
            else:
                for sign, same in groupby(signs):
                    _add_zeros(self.zeros, sign < 0, len(list(same)))
        tallied = len(self.tallied[0])
        # Blocks wait for the next tally packed where they wait long (see _SPREAD).
        self.raw.append(_packed(block) if _SPREAD * tallied > 4 * _BLOCK else block)
        self.waiting += len(block)
        if self.sealed > _TALLY_FROM and self.waiting >= _SPREAD * tallied:
            self._tally_raw()

    def _tally_raw(self) -> None:
        """Count the waiting blocks into the tally: block by block, then merged (one
        count of 100,000 distinct values took ~7 MB at the moment of the peak)."""
        raw, waiting, self.raw, self.waiting = self.raw, self.waiting, [], 0
        # Where most values differ (more than half as many distinct values tallied as
        # values: microseconds), a packed block's run is the block sorted (4 bytes a
        # value) rather than counted (4 + 1 bytes a distinct one); each block is let go
        # as its run is made (all of them made first, with 8-byte float keys, set the
        # end's peak: 100,000 runs at microseconds 48.9 MB, now 39.4; main's packing
        # of every value 43.6).
        spread = 2 * len(self.tallied[0]) > self.counted
        runs: list[_Run] = [self.tallied]
        while raw:
            block = raw.pop()
            runs.append(
                (array("i", sorted(block)), None)
                if spread and block.typecode == "i"
                else _run_of(block)
            )
        self.counted += waiting
        self.tallied = _merged(runs)

    def tally(self) -> _Tally:
        """Everything appended so far, counted."""
        self.seal()
        if self.raw:
            self._tally_raw()
        keys, counts = self.tallied
        return _Tally(keys, counts, self.zeros, self.lo, self.hi, self.big)


@dataclass(frozen=True, slots=True)
class _Tally:
    """Values as distinct values and counts, and what a stable sort would keep apart
    (see :class:`_Values`): enough for every figure of :class:`Distribution`."""

    keys: array[Any]  # distinct values below _EXACT_LIMIT, ascending (see _Run)
    counts: array[int]
    zeros: list[int]  # the zero class's signs in order (see _add_zeros)
    lo: float | None  # the smallest value below _EXACT_LIMIT as it first came
    hi: float | None  # the largest as it last came
    big: list[float]  # values past _EXACT_LIMIT, in order

    @classmethod
    def union(cls, tallies: Sequence[_Tally]) -> _Tally:
        """The values of ``tallies`` one after the other."""
        runs = [(t.keys, t.counts) for t in tallies if t.keys]
        keys, counts = _merged(runs) if runs else (array("i"), array("B"))
        zeros: list[int] = []
        lo = hi = None
        for t in tallies:
            for run, count in enumerate(t.zeros):
                if count:
                    _add_zeros(zeros, run % 2 == 1, count)
            if t.lo is not None and (lo is None or t.lo < lo):
                lo = t.lo
            if t.hi is not None and (hi is None or t.hi >= hi):
                hi = t.hi
        return cls(keys, counts, zeros, lo, hi, [v for t in tallies for v in t.big])

    @classmethod
    def of_floats(
        cls, added: Sequence[_Tally], removed: Sequence[_Tally], zeros: list[int]
    ) -> _Tally:
        """The values of ``added`` less those of ``removed``, all of them floats, whose
        zeros are ``zeros`` (the figures of a float depend on its value alone, but
        for the sign of a zero)."""
        keys, counts = _merged(
            [(t.keys, t.counts) for t in added], [(t.keys, t.counts) for t in removed]
        )
        big = Counter(v for t in added for v in t.big)
        big.subtract(v for t in removed for v in t.big)
        lo = hi = None
        if keys:
            lo, hi = map(_key_value(keys), (keys[0], keys[-1]))
            if lo == 0.0:
                lo = _zero_at(zeros, 0)
            if hi == 0.0:
                hi = _zero_at(zeros, sum(zeros) - 1)
        return cls(keys, counts, zeros, lo, hi, [float(v) for v in big.elements()])

    def distribution(self) -> Distribution | None:
        compact = sum(self.counts)
        count = compact + len(self.big)
        if not count:
            return None
        ordered_big = sorted(self.big)  # a stable sort: equal values keep their order
        below = ordered_big[: bisect_left(ordered_big, 0)]
        above = ordered_big[len(below) :]
        keys, lo, hi, zeros = self.keys, self.lo, self.hi, self.zeros
        value = _key_value(keys)
        # ends[i]: how many values are <= keys[i]
        ends = array("I" if compact < 1 << 32 else "q", accumulate(self.counts))

        def at(rank: int) -> float:
            """The value a sort of all of them puts at ``rank``."""
            if rank < len(below):
                return below[rank]
            rank -= len(below)
            if rank >= compact:
                return above[rank - compact]
            if rank == 0:
                return lo  # type: ignore[return-value]
            if rank == compact - 1:
                return hi  # type: ignore[return-value]
            i = bisect_right(ends, rank)
            if keys[i] == 0:
                return _zero_at(zeros, rank - (ends[i - 1] if i else 0))
            return value(keys[i])

        def ordered() -> Iterator[float]:
            """All values in the order a sort gives (for the mean: fsum's order)."""
            z = bisect_left(keys, 0)
            if z < len(keys) and keys[z] == 0:
                middle: Iterable[float] = chain.from_iterable(map(repeat, _SIGNED_ZEROS, zeros))
                after = z + 1
            else:
                middle, after = (), z
            return chain(
                below,
                chain.from_iterable(map(repeat, map(value, keys[:z]), self.counts[:z])),
                middle,
                chain.from_iterable(map(repeat, map(value, keys[after:]), self.counts[after:])),
                above,
            )

        return Distribution(
            count=count,
            mean=_mean(ordered, count),
            p50=_interpolated(at, count, 0.5),
            p95=_interpolated(at, count, 0.95),
            minimum=at(0),
            maximum=at(count - 1),
        )


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
        "not_attempt_values",
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
        # tallied: 100,000 records hold millions of them, but few distinct ones
        self.durations = _Values()  # an int duration_ms stays an int (as in the output)
        # An attempt's own duration is nearly always its execution's too (the same
        # float): then it is kept once; `not_attempts` lists the positions of the
        # execution durations that are not also an attempt's (a few, where retries
        # are), whose values land in `not_attempt_values` when their block is sealed;
        # `attempt_durations` holds the attempts' other ones. The attempts' figures
        # are those of durations − not_attempt_values + attempt_durations: all floats
        # (an int duration_ms is never kept once), zeros only in attempt_durations
        # (a zero is never kept once), so their zeros' signs come in its order.
        self.not_attempts = array("q")
        self.not_attempt_values = _Values()
        self.durations.marks = self.not_attempts
        self.durations.marked = self.not_attempt_values
        self.attempt_durations = _Values()
        self.waits = _Values()
        self.cost = 0.0
        self.errors: Counter[str] = Counter()

    def add_duration(self, duration: float | None) -> None:
        """An execution's duration (not one of its attempts'), when it is a real one."""
        if duration is not None and 0 <= duration < math.inf:
            self.not_attempts.append(len(self.durations))
            self.durations.append(duration)

    def attempt_tally(self, durations: _Tally) -> _Tally:
        """Every attempt duration (``durations``: :meth:`_Values.tally` of the execution
        durations, which seals the last of `not_attempt_values`)."""
        attempts = self.attempt_durations.tally()
        return _Tally.of_floats(
            [durations, attempts], [self.not_attempt_values.tally()], attempts.zeros
        )


#: Shapes (see :class:`_Shape`) a workflow keeps: records of others take the node
#: record by node record way. Engine records of one workflow come in few shapes (60
#: in 10,000 generated records); a plan holds ~10 references a node record.
_SHAPES = 256
#: Durations a shape keeps as rows before it hands them to its nodes (8 KB: at most
#: 2 MB for all shapes kept; read when called, so tests that shrink blocks shrink it).
_ROWS_OF_BLOCK = 4
#: What tells records' shapes apart: node ids, node types and statuses (each column
#: joined by "\x1f" for the key, as lists for the plan).
_ShapeKey = tuple[str, str, str]
_ShapeColumns = tuple[Sequence[str], Sequence[str], Sequence[str]]
_DURATION_MS = itemgetter("duration_ms")
_ENDED_AT = repeat("ended_at")  # endless: map() stops with the node records
_FLOAT_ONLY = frozenset({float})
_TYPES = frozenset
_MILLISECONDS = repeat(timedelta(milliseconds=1))
_from_iso = datetime.fromisoformat
_THOUSANDS = repeat(1000.0)  # (operator.mul over it: a method wrapper costs ~2x a call)
_COLUMNS = itemgetter("node_id", "node_type", "status", "attempt", "started_at")


_DURATIONS = repeat("duration_ms")  # endless: map() stops with the node records
_FLOAT_OR_NONE = frozenset({float, type(None)})


def _floats_only(nodes: list[dict[str, Any]]) -> bool:
    """Whether every ``duration_ms`` of the node records is a float (or absent)."""
    return _FLOAT_OR_NONE.issuperset(map(type, map(dict.get, nodes, _DURATIONS)))


def _costed(nodes: list[dict[str, Any]]) -> list[int]:
    """The positions of the node records that carry a cost (``_plain_cost`` of any
    other is 0.0, which adds nothing). A comprehension: ``map`` over
    ``dict.__contains__`` costs more (19k against 13k instructions a record)."""
    return [i for i, node in enumerate(nodes) if "ai_metadata" in node or "cost_usd" in node]


class _Shape:
    """What records whose node records have the same node ids (each once), types and
    statuses, all of the same attempt, have in common: the counts they add to each
    node and where each value goes — worked out once, not per record (see
    :meth:`_WorkflowAccumulator._add_shaped`).

    Each node record is an execution of its own and each node has at most one, so
    the order of start changes nothing but the order in which nodes are first met
    (taken from the first record of the shape). ``single``: positions of the node
    records that ran, ``accs`` and ``durations`` their nodes' accumulators and
    durations; ``counts``: per node (runs, executions, attempts, failed attempts,
    failed executions, timed out, skipped), added ``count`` times at the end.
    """

    __slots__ = (
        "accs",
        "count",
        "counts",
        "durations",
        "every_single",
        "failed",
        "humans",
        "rows",
        "single",
        "single_at",
    )

    def __init__(
        self,
        columns: _ShapeColumns,
        by_start: list[int],
        accumulators: dict[str, _NodeAccumulator],
    ) -> None:
        ids, types, statuses = columns
        for position in by_start:  # nodes first met in order of start, as _add_nodes does
            if ids[position] not in accumulators:
                accumulators[ids[position]] = _NodeAccumulator(types[position])
        self.count = 0
        self.counts: list[tuple[_NodeAccumulator, tuple[int, ...]]] = []
        self.single: list[int] = []
        self.accs: list[_NodeAccumulator] = []
        self.single_at: list[_NodeAccumulator | None] = [None] * len(ids)
        self.humans: list[tuple[_NodeAccumulator, int, int]] = []  # (acc, position, in single)
        self.failed: list[tuple[_NodeAccumulator, int]] = []
        for position, node_id in enumerate(ids):
            acc = accumulators[node_id]
            status = statuses[position]
            if status == "SKIPPED":
                self.counts.append((acc, (0, 0, 0, 0, 0, 0, 1)))
                continue
            failed = status in FAILED_STATUSES
            timed_out = status == "TIMED_OUT"
            self.counts.append((acc, (1, 1, 1, failed, failed, timed_out, 0)))
            if failed:
                self.failed.append((acc, position))
            if types[position] == "human":
                self.humans.append((acc, position, len(self.single)))
            self.single_at[position] = acc
            self.single.append(position)
            self.accs.append(acc)
        self.durations = [acc.durations for acc in self.accs]
        self.every_single = len(self.single) == len(ids)
        self.rows = array("d")  # durations of records, one a node of `single` in turn

    def flush(self) -> None:
        """Hand the durations kept as rows to their nodes."""
        rows, self.rows = self.rows, array("d")
        width = len(self.durations)
        if rows and width:
            for column, durations in enumerate(self.durations):
                durations.extend(rows[column::width])


class _WorkflowAccumulator:
    def __init__(self, workflow_id: str, version: str | None) -> None:
        self.workflow_id = workflow_id
        self.version = version
        self.statuses: Counter[str] = Counter()
        self.durations = _Values()
        self.cost = 0.0
        self.nodes: dict[str, _NodeAccumulator] = {}
        self._shapes: dict[_ShapeKey, _Shape] = {}
        #: whether a shape holds durations not yet handed to its nodes
        self._rows_waiting = False

    def add(self, record: RunRecord) -> None:
        if self._rows_waiting:  # durations reach the nodes in record order (add_plain)
            self._flush_rows()
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
        costed = _costed(nodes)
        total = (head.cost or {}).get("total_usd")
        if isinstance(total, int | float) and head.cost:
            self.cost += _money(float(total))
        else:
            self.cost += _money(sum(_plain_cost(nodes[i]) for i in costed))
        breakdown = _breakdown(head)
        if not self._add_shaped(nodes, costed, breakdown):
            if self._rows_waiting and not _floats_only(nodes):
                # the values that came before reach the nodes first: a node's smallest
                # and largest value are kept as they came, and an int equal to a
                # waiting float (126 after 126.0) must not be overtaken by it (floats
                # equal to waiting ones are the same either way: no need to hand
                # them over, which costs ~0.1 s of 10,000 records when done for every
                # record that leaves the shapes)
                self._flush_rows()
            self._add_nodes(nodes, record_moments(nodes), breakdown)

    def _add_shaped(
        self,
        nodes: list[dict[str, Any]],
        costed: list[int],
        breakdown: dict[str, float],
    ) -> bool:
        """The node records' part of :meth:`add_plain` by the record's :class:`_Shape`,
        when each node record is an execution of its own (one attempt each, no node
        twice) and every ``duration_ms`` of one that ran is a float that agrees with
        its timestamps (what records written by the engine hold); False, having
        changed nothing, otherwise.

        The counts (runs, executions, attempts, failures, skips) depend on the shape
        alone: they are added once per shape at the end. What is left per record are
        the durations, costs, errors and waits, read by C loops over the node
        records; and as each node takes at most one value a record, in file order.
        """
        if not nodes:
            return False
        # the columns every node record has, by one C loop (a pass a column cost more)
        ids, types, statuses, attempts, started = zip(*map(_COLUMNS, nodes), strict=True)
        if attempts.count(attempts[0]) != len(attempts):
            return False  # a retry: which attempts form one execution depends on the order
        # each column joined: hashed and compared by C at a few bytes a node record
        key = ("\x1f".join(ids), "\x1f".join(types), "\x1f".join(statuses))
        shape = self._shapes.get(key)
        if shape is None:
            if (
                len(self._shapes) >= _SHAPES
                or len(set(ids)) != len(ids)
                # no text holds the separator, so that the key tells shapes apart
                or any(part.count("\x1f") != len(ids) - 1 for part in key)
            ):
                return False
            moments = record_moments(nodes)
            begun = [math.inf if v is None else v for v in map(moments.__getitem__, started)]
            by_start = sorted(range(len(nodes)), key=begun.__getitem__)  # as _add_nodes
            shape = self._shapes[key] = _Shape((ids, types, statuses), by_start, self.nodes)
        if shape.every_single:
            single = nodes
        else:
            single = list(map(nodes.__getitem__, shape.single))
            started = tuple(map(started.__getitem__, shape.single))
        try:
            measured = list(map(_DURATION_MS, single))
        except KeyError:
            return False
        if measured:
            # floats alone (an int stays an int), finite (a sum over NaN or an
            # infinity is not) and none negative (a sum over NaN is NaN: min is sound)
            if _TYPES(map(type, measured)) != _FLOAT_ONLY:
                return False
            if not (min(measured) >= 0.0 and math.isfinite(sum(measured))):
                return False
            ended: list[Any] = list(map(dict.get, single, _ENDED_AT))
            # Each wall time as the difference of the two moments, exact: where a text
            # reads as a date at all, `written_timestamp` reads the same moment
            # (naive ones as UTC: the difference is the same). Parsing each text and
            # subtracting costs ~half of what `record_moments` (timestamps as POSIX
            # floats, each text once) and looking each one up do.
            try:
                spans = list(
                    map(
                        truediv,
                        map(sub, map(_from_iso, ended), map(_from_iso, started)),
                        _MILLISECONDS,
                    )
                )
            except (TypeError, ValueError):  # no end, no date, naive and aware together
                return False
            gaps = list(map(sub, measured, spans))
            # _add_nodes takes a measure within 0.999 of (end - start) * 1000.0 over
            # POSIX floats, which is off the exact wall time by less than 0.07 ms for
            # any date (years 1-9999: floats to 2**38 s, steps of 2**-14 s): gaps under
            # 0.899 agree either way; those nearer the edge are taken as it takes them.
            if not (min(gaps) > -0.899 and max(gaps) < 0.899):
                for gap, duration, begin, end in zip(gaps, measured, started, ended, strict=True):
                    if -0.899 < gap < 0.899:
                        continue
                    start, stop = written_timestamp(begin), written_timestamp(end)
                    if start is None or stop is None:
                        return False
                    if not -0.999 < duration - (stop - start) * 1000.0 < 0.999:
                        return False  # a measure that disagrees with its wall time
        shape.count += 1
        # an attempt's own duration: duration_ms / 1000.0 * 1000.0, as in _add_nodes
        values = list(map(mul, map(truediv, measured, _THOUSANDS), _THOUSANDS))
        if values == measured and 0.0 not in measured:  # each kept once (the same float)
            # Kept as a row, handed to the nodes column by column later: floats above
            # zero give the same figures in any order, and a node takes at most one a
            # record (a loop of Python appends cost ~20k instructions a record). A
            # record added another way hands the waiting rows over first (an int
            # equal to one of them must come after it, as it did).
            rows = shape.rows
            rows.extend(measured)
            self._rows_waiting = True
            if len(rows) * _ROWS_OF_BLOCK >= _BLOCK:
                shape.flush()
        else:
            for acc, duration, value in zip(shape.accs, measured, values, strict=True):
                durations = acc.durations
                if not (value and value == duration):
                    acc.not_attempts.append(len(durations))
                    acc.attempt_durations.append(value)
                floats = durations.floats
                floats.append(duration)
                if len(floats) == _BLOCK:
                    durations.seal()
        for acc, position, index in shape.humans:
            _add_wait(acc, nodes[position], measured[index] / 1000.0)
        for acc, position in shape.failed:
            acc.errors[_plain_error_key(nodes[position])] += 1
        if costed or breakdown:
            self._add_costs(shape, nodes, costed, breakdown)
        return True

    @staticmethod
    def _add_costs(
        shape: _Shape, nodes: list[dict[str, Any]], costed: list[int], breakdown: dict[str, float]
    ) -> None:
        """The costs of a shaped record's node records (a node's only execution takes
        the breakdown's cost when it carries none of its own)."""
        at = shape.single_at
        if breakdown:
            firsts = [
                p
                for p, node in enumerate(nodes)
                if at[p] is not None and node["node_id"] in breakdown
            ]
            costed = sorted({*costed, *firsts})
        for position in costed:
            acc = at[position]
            if acc is None:  # skipped
                continue
            node = nodes[position]
            cost = 0.0
            if "ai_metadata" in node or "cost_usd" in node:
                cost += _plain_cost(node)
            if not cost and breakdown:
                cost = breakdown.get(node["node_id"], 0.0)
            if cost and math.isfinite(cost):  # _money; adding 0.0 changes nothing
                acc.cost += cost

    def _flush_rows(self) -> None:
        """Hand every shape's waiting durations to its nodes."""
        for shape in self._shapes.values():
            if shape.rows:
                shape.flush()
        self._rows_waiting = False

    def _fold_shapes(self) -> None:
        """Add each shape's counts, times the records that had it, to its nodes."""
        self._flush_rows()
        for shape in self._shapes.values():
            times, shape.count = shape.count, 0
            if times:
                for acc, counts in shape.counts:
                    runs, executions, attempts, failed, failed_executions, timed_out, skipped = (
                        counts
                    )
                    acc.runs += times * runs
                    acc.executions += times * executions
                    acc.attempts += times * attempts
                    acc.failed_attempts += times * failed
                    acc.failed_executions += times * failed_executions
                    acc.timed_out += times * timed_out
                    acc.skipped += times * skipped

    def _add_nodes(
        self,
        nodes: list[dict[str, Any]],
        moments: dict[str | None, float | None],
        breakdown: dict[str, float],
    ) -> None:
        """The node records' part of :meth:`add_plain`, node record by node record (what
        :meth:`_add_shaped` leaves: records out of order, odd durations or timestamps)."""
        has_breakdown = bool(breakdown)
        accumulators = self.nodes
        failed_statuses = FAILED_STATUSES
        seen: set[str] = set()
        occurred: set[str] = set()
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
                    if type(duration) is float:
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
        self._fold_shapes()
        node_stats: dict[str, NodeStats] = {}
        waits: list[_Tally] = []
        for node_id, acc in self.nodes.items():
            durations = acc.durations.tally()
            waits.append(acc.waits.tally())
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
                duration_ms=durations.distribution(),
                human_wait_ms=waits[-1].distribution(),
                total_cost_usd=acc.cost,
                errors=_common(acc.errors),
                attempt_duration_ms=acc.attempt_tally(durations).distribution(),
            )
        all_errors: Counter[str] = Counter()
        for acc in self.nodes.values():
            all_errors.update(acc.errors)
        return WorkflowStats(
            workflow_id=self.workflow_id,
            workflow_version=self.version,
            total_runs=sum(self.statuses.values()),
            status_counts=dict(self.statuses),
            duration_ms=self.durations.tally().distribution(),
            total_cost_usd=self.cost,
            human_wait_ms=_Tally.union(waits).distribution(),
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
