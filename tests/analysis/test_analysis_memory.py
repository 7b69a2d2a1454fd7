"""The compact stores behind streaming analyses give back exactly what they were given:
packed rows, packed durations (types, signs and order included) and conformance
results with their totals — so ``stats`` and ``diff`` over 100,000 records keep
their outputs while holding a few bytes a record."""

from __future__ import annotations

import json
import random
from array import array
from typing import Any

import pytest

from osop.analysis.conformance import (
    ConformanceResult,
    ConformanceResults,
    ConformanceSummary,
    Deviation,
    fitness,
)
from osop.analysis.packed import BLOCK_ROWS, PackedRows
from osop.analysis.records import plain_record
from osop.analysis.stats import Distribution, _NodeAccumulator, _Tally, _Values, compute_stats

from .generator import generate
from .processes import REVIEW_STEPS, REVIEW_TREE


def test_packed_rows_give_back_every_row() -> None:
    rows: list[tuple[Any, ...]] = [
        (f"folder/{i:06}-\udcff-é.osoplog.json", f"run-{i * 7919 % 1000}", i, None)
        for i in range(3 * BLOCK_ROWS + 17)
    ]
    packed = PackedRows()
    for row in rows:
        packed.append(row)
    assert len(packed) == len(rows)
    assert list(packed) == rows
    for i in (0, BLOCK_ROWS - 1, BLOCK_ROWS, 2 * BLOCK_ROWS + 5, len(rows) - 1, 3, 1):
        assert packed[i] == rows[i]


def _exact(value: Any) -> str:
    """A value told apart by type and sign too (126 vs 126.0, -0.0 vs 0.0)."""
    return f"{type(value).__name__}:{value!r}"


def _figures(dist: Distribution | None) -> list[str] | None:
    if dist is None:
        return None
    return [_exact(getattr(dist, name)) for name in Distribution.__slots__]


def _tallied(values: list[Any]) -> Distribution | None:
    store = _Values()
    for value in values:
        store.append(value)
    assert len(store) == len(values)
    return store.tally().distribution()


def _random_values(rng: random.Random, n: int) -> list[Any]:
    """Durations as records give them: whole and thousandths of ms, ints, repeats, ties,
    zeros of both signs, values past 2**52 (ints and floats), and a few outliers."""
    kind = rng.randrange(6)
    pool: list[Any]
    if kind == 0:  # whole milliseconds over a small range: many repeats
        pool = [float(rng.randint(0, 40)) for _ in range(12)]
    elif kind == 1:  # microseconds: nearly all distinct
        pool = [round(rng.uniform(0, 300), 3) for _ in range(n)]
    elif kind == 2:  # ints and equal floats (126 and 126.0 tie), zeros of both signs
        pool = [126, 126.0, 0, 0.0, -0.0, 3, 3.0, 2.5, 10**6, 1e6]
    elif kind == 3:  # huge ints and floats past the exact limit, next to small ones
        pool = [2**53 + 1, 2**60, 2.0**60, 9.5, 9, 0.0, 10**299, 1e299, -0.0]
    elif kind == 4:  # one value only
        pool = [rng.choice([0.0, -0.0, 7, 7.0, 1e299])]
    else:  # a mix of everything, rounded to ms and not
        pool = [rng.uniform(0, 1e4), 0.1 + 0.2, 5, 5.0, -0.0, 0.0, 1e-300, 3.0, 3]
    return [rng.choice(pool) for _ in range(n)]


@pytest.mark.parametrize("seed", range(40))
def test_tallied_figures_are_those_of_sorting_every_value(seed: int, monkeypatch: Any) -> None:
    """Count, mean, p50, p95, min and max from the tally (distinct values and counts)
    are those of sorting every value — the very objects, types and signs included."""
    from osop.analysis import stats

    rng = random.Random(seed)
    if seed % 2:  # tally from the first block on, in blocks of a few values
        monkeypatch.setattr(stats, "_BLOCK", rng.choice([1, 2, 7, 64]))
        monkeypatch.setattr(stats, "_TALLY_FROM", 0)
        monkeypatch.setattr(stats, "_MERGE_SLICE", rng.choice([1, 3, 50]))
    for n in (0, 1, 2, 3, rng.randrange(4, 50), rng.randrange(300, 3000)):
        values = _random_values(rng, n)
        assert _figures(_tallied(values)) == _figures(Distribution.of(values)), (seed, n)


def test_tallies_put_together_are_the_values_put_together(monkeypatch: Any) -> None:
    """The union of tallies (the workflow's human waits, node after node) and the
    attempts' tally (executions less those not an attempt's, plus the others)."""
    from osop.analysis import stats

    monkeypatch.setattr(stats, "_BLOCK", 5)
    monkeypatch.setattr(stats, "_TALLY_FROM", 10)
    monkeypatch.setattr(stats, "_MERGE_SLICE", 4)
    rng = random.Random(3)
    for _ in range(30):
        parts = [_random_values(rng, rng.randrange(0, 60)) for _ in range(rng.randrange(1, 4))]
        tallies = []
        for part in parts:
            store = _Values()
            for value in part:
                store.append(value)
            tallies.append(store.tally())
        whole = [v for part in parts for v in part]
        union = _Tally.union(tallies).distribution()
        assert _figures(union) == _figures(Distribution.of(whole))


def test_attempt_durations_kept_once_are_all_there() -> None:
    acc = _NodeAccumulator("cli")
    acc.add_duration(5.0)  # an execution of several attempts: not an attempt's own
    acc.durations.append(7.5)  # an execution whose single attempt took the same time
    acc.add_duration(9.0)
    acc.attempt_durations.append(3.0)
    acc.attempt_durations.append(-0.0)
    attempts = acc.attempt_tally(acc.durations.tally()).distribution()
    assert _figures(attempts) == _figures(Distribution.of([3.0, 7.5, -0.0]))


@pytest.mark.parametrize("seed", range(6))
def test_attempt_tally_is_the_attempts_sorted(seed: int, monkeypatch: Any) -> None:
    """Execution durations kept once for their attempt, others not (ints, zeros), in
    blocks sealed on the way: the attempts' figures are those of sorting them."""
    from osop.analysis import stats

    monkeypatch.setattr(stats, "_BLOCK", 8)
    monkeypatch.setattr(stats, "_TALLY_FROM", 16 * (seed % 3))
    monkeypatch.setattr(stats, "_MERGE_SLICE", 2 + seed)
    rng = random.Random(seed)
    acc = _NodeAccumulator("cli")
    executions: list[Any] = []
    attempts: list[Any] = []
    for _ in range(rng.randrange(50, 400)):
        value = rng.choice([float(rng.randint(1, 30)), round(rng.uniform(0, 9), 3), 4, 0.0, -0.0])
        if type(value) is float and value and rng.random() < 0.7:  # kept once
            acc.durations.append(value)
            executions.append(value)
            attempts.append(value)
            continue
        acc.add_duration(value)
        executions.append(value)
        for _ in range(rng.randrange(0, 3)):
            own = rng.choice([float(rng.randint(1, 30)), 0.0, -0.0, 2.5])
            acc.attempt_durations.append(own)
            attempts.append(own)
    durations = acc.durations.tally()
    assert _figures(durations.distribution()) == _figures(Distribution.of(executions))
    got = acc.attempt_tally(durations).distribution()
    assert _figures(got) == _figures(Distribution.of(attempts))


def test_tally_memory_follows_distinct_values(monkeypatch: Any) -> None:
    """A million whole-millisecond durations over 3 s: a few thousand distinct values
    and their counts, not a million floats."""
    from osop.analysis import stats

    rng = random.Random(9)
    store = _Values()
    pool = array("d", [float(rng.randint(100, 3100)) for _ in range(stats._BLOCK)])
    rounds = 250
    for _ in range(rounds):
        store.floats.extend(pool)  # a block at a time, as the accumulator's inlined append
        store.seal()
    assert len(store) == rounds * len(pool)
    keys = store.tallied[0]
    waiting = sum(len(block) * block.itemsize for block in store.raw)
    assert len(keys) <= 3001
    assert len(keys) * (8 + 2) + waiting < 4 * 3001 * 8  # distinct values, not a million
    dist = store.tally().distribution()
    assert dist is not None and dist.count == rounds * len(pool)
    assert _figures(dist) == _figures(Distribution.of(list(pool) * rounds))


def test_microsecond_durations_are_tallied_as_thousandths(monkeypatch: Any) -> None:
    """Durations as the engine writes them (round(ms, 3), nearly all distinct): the
    tally keeps 4-byte thousandths and 1-byte counts, waiting blocks are merged as
    sorted runs, and every figure is the one of sorting every value."""
    from osop.analysis import stats

    monkeypatch.setattr(stats, "_BLOCK", 64)
    monkeypatch.setattr(stats, "_TALLY_FROM", 256)
    monkeypatch.setattr(stats, "_MERGE_SLICE", 100)
    sorted_runs = 0
    real_merged = stats._merged

    def merged(added: Any, removed: Any = ()) -> Any:
        nonlocal sorted_runs
        sorted_runs += sum(counts is None for _, counts in added)
        return real_merged(added, removed)

    monkeypatch.setattr(stats, "_merged", merged)
    rng = random.Random(4)
    values = [round(rng.uniform(0, 300), 3) for _ in range(5000)]
    values += values[:700]  # some repeats, counted
    store = _Values()
    for value in values:
        store.append(value)
    tally = store.tally()
    assert tally.keys.typecode == "i" and tally.counts.typecode == "B"
    assert sorted_runs > 0  # most values differ: blocks merged sorted, not counted
    assert _figures(tally.distribution()) == _figures(Distribution.of(values))
    # a value that is no number of thousandths: the tally falls back to floats, exactly
    store.append(0.1 + 0.2)
    values.append(0.1 + 0.2)
    tally = store.tally()
    assert tally.keys.typecode == "d"
    assert _figures(tally.distribution()) == _figures(Distribution.of(values))


def test_tally_counts_widen_past_a_byte(monkeypatch: Any) -> None:
    from osop.analysis import stats

    monkeypatch.setattr(stats, "_BLOCK", 50)
    monkeypatch.setattr(stats, "_TALLY_FROM", 100)
    monkeypatch.setattr(stats, "_MERGE_SLICE", 2)
    values = [1.5] * 300 + [2.25, 0.125] * 40 + [7.0] * 70_000
    store = _Values()
    for value in values:
        store.append(value)
    tally = store.tally()
    assert list(tally.keys) == [125, 1500, 2250, 7000]
    assert list(tally.counts) == [40, 300, 40, 70_000] and tally.counts.typecode == "I"
    assert _figures(tally.distribution()) == _figures(Distribution.of(values))


def _result(i: int, deviations: list[Deviation]) -> ConformanceResult:
    return ConformanceResult(
        f"runs/{i:03}.osoplog.json",
        f"run-{i}",
        "wf",
        "COMPLETED" if i % 3 else "FAILED",
        produced=4 + i % 2,
        consumed=4,
        missing=i % 4 == 1,
        remaining=i % 5 == 2,
        deviations=deviations,
        warnings=["odd"] if i % 7 == 0 else [],
    )


def test_conformance_results_are_the_results_and_their_totals() -> None:
    kinds = [
        [],
        [Deviation("not_run", "b", "b should have run")],
        [Deviation("unexpected", "c", "c ran"), Deviation("not_run", "b", "b should have run")],
    ]
    given = [_result(i, list(kinds[i * 7 % 3])) for i in range(2 * BLOCK_ROWS + 9)]
    kept = ConformanceResults(given)
    assert len(kept) == len(given)
    assert list(kept) == given
    assert (
        kept[-1] == given[-1] and kept[3:9] == given[3:9] and kept[BLOCK_ROWS] == given[BLOCK_ROWS]
    )
    packed = ConformanceSummary("wf.osop", kept)
    listed = ConformanceSummary("wf.osop", given)
    assert not isinstance(listed.results, ConformanceResults)
    assert packed.to_dict() == listed.to_dict()
    assert packed.average_fitness == sum(r.fitness for r in given) / len(given)
    assert packed.log_fitness == fitness(
        sum(r.missing for r in given),
        sum(r.consumed for r in given),
        sum(r.remaining for r in given),
        sum(r.produced for r in given),
    )
    assert packed.conformant_records == sum(1 for r in given if r.conformant)
    assert list(packed.deviation_counts()) == ["not_run", "unexpected"]  # first seen first
    assert ConformanceSummary("wf.osop", ConformanceResults()).conformant


def test_stats_with_tallied_durations_are_those_kept_as_they_came(monkeypatch: Any) -> None:
    """Past _TALLY_FROM durations a node's are tallied; every figure stays as it was."""
    from osop.analysis import stats

    monkeypatch.setattr(stats, "_BLOCK", 256)
    records = generate(REVIEW_TREE, REVIEW_STEPS, 120, seed=11).records
    assert len(records) * 10 > 4 * stats._BLOCK
    plains = [plain_record(json.loads(json.dumps(r))) for r in records * 10]
    runs = [p.record() for p in plains]

    def figures() -> tuple[str, int]:
        fast = stats.StatsAccumulator()
        for plain in plains:
            fast.add_plain(plain)
        tallied = sum(
            len(node.durations.tallied[0]) > 0
            for group in fast._groups.values()
            for node in group.nodes.values()
        )
        objects = compute_stats(runs)
        text = json.dumps([[s.to_dict() for s in fast.finish()], [s.to_dict() for s in objects]])
        return text, tallied

    monkeypatch.setattr(stats, "_TALLY_FROM", 10**9)  # kept as they came until the end
    kept, none = figures()
    assert none == 0
    monkeypatch.setattr(stats, "_TALLY_FROM", stats._BLOCK)  # the second block on tallied
    tallied, some = figures()
    assert some > 0
    assert tallied == kept
