"""The compact stores behind streaming analyses give back exactly what they were given:
packed rows, packed durations (types, signs and order included) and conformance
results with their totals — so ``stats`` and ``diff`` over 100,000 records keep
their outputs while holding a few bytes a record."""

from __future__ import annotations

import json
import random
from typing import Any

from osop.analysis.conformance import (
    ConformanceResult,
    ConformanceResults,
    ConformanceSummary,
    Deviation,
    fitness,
)
from osop.analysis.packed import BLOCK_ROWS, PackedRows
from osop.analysis.records import plain_record
from osop.analysis.stats import _BLOCK, _NodeAccumulator, _Values, compute_stats

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


def _exact(values: list[Any]) -> list[str]:
    """Values told apart by type and sign too (126 vs 126.0, -0.0 vs 0.0)."""
    return [f"{type(v).__name__}:{v!r}" for v in values]


def _kept(values: list[Any]) -> list[Any]:
    store = _Values()
    for value in values:
        store.append(value)
    assert len(store) == len(values)
    return list(store)


def test_packed_durations_keep_every_value_exactly(monkeypatch: Any) -> None:
    from osop.analysis import stats

    monkeypatch.setattr(stats, "_PACK_FROM", 0)  # every full block packed
    rng = random.Random(5)
    thousandths = [round(rng.uniform(0, 40_000), 3) for _ in range(3 * _BLOCK)]
    assert _exact(_kept(thousandths)) == _exact(thousandths)
    odd = list(thousandths)
    odd[_BLOCK + 7] = 0.1 + 0.2  # not a number of thousandths
    odd[2 * _BLOCK + 1] = -0.0  # equal to 0.0, shown as -0.0
    odd[5] = 3_000_000.25  # beyond 32-bit thousandths
    odd[9] = 1e-9
    kept = _kept(odd)
    assert _exact(kept) == _exact(odd)
    assert str(kept[2 * _BLOCK + 1]) == "-0.0"
    with_int = [*thousandths[: _BLOCK + 3], 126, *thousandths[: _BLOCK + 3]]
    assert _exact(_kept(with_int)) == _exact(with_int)  # an int stays an int, in its place


def test_attempt_durations_kept_once_are_all_there() -> None:
    acc = _NodeAccumulator("cli")
    acc.add_duration(5.0)  # an execution of several attempts: not an attempt's own
    acc.durations.append(7.5)  # an execution whose single attempt took the same time
    acc.add_duration(9.0)
    acc.attempt_durations.append(3.0)
    assert sorted(acc.attempt_values()) == [3.0, 7.5]


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


def test_stats_with_packed_durations_are_the_unpacked_ones(monkeypatch: Any) -> None:
    """Past _BLOCK durations a node's are packed; every figure stays as it was."""
    from osop.analysis import stats

    monkeypatch.setattr(stats, "_PACK_FROM", _BLOCK)  # the second block on packed
    records = generate(REVIEW_TREE, REVIEW_STEPS, 120, seed=11).records
    assert len(records) * 80 > 2 * _BLOCK
    plains = [plain_record(json.loads(json.dumps(r))) for r in records * 80]
    runs = [p.record() for p in plains]

    def figures() -> tuple[str, int]:
        fast = stats.StatsAccumulator()
        for plain in plains:
            fast.add_plain(plain)
        packed_blocks = sum(
            block.typecode == "i"
            for group in fast._groups.values()
            for node in group.nodes.values()
            for block in node.durations.blocks
        )
        objects = compute_stats(runs)
        text = json.dumps([[s.to_dict() for s in fast.finish()], [s.to_dict() for s in objects]])
        return text, packed_blocks

    packed, blocks = figures()
    assert blocks > 0  # some were packed
    monkeypatch.setattr(stats, "_packed", lambda block: block)  # every value as a float
    assert figures() == (packed, 0)
