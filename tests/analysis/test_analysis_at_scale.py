"""The fast ways analyses read and replay many records give exactly the slow ways' answers.

Records are read by orjson when that gives the same data as the checked JSON
loader (else by the loader, errors and all), and ``osop diff WF DIR`` replays each
variant of a run once.  Speed is measured in bench/bench_analysis.py, not here.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest

from osop.analysis.conformance import Replayer, replay
from osop.analysis.records import plain_record, read_record_data
from osop.errors import LoadError
from osop.format.loader import json_loads_checked
from osop.format.workflow import workflow_from_dict

from .generator import generate
from .processes import REVIEW_STEPS, REVIEW_TREE

_NODE = '{"node_id":"a","node_type":"cli","attempt":1,"status":"COMPLETED","started_at":"x"}'


@pytest.mark.parametrize(
    "body",
    [
        '"n":1,"n":2',  # a duplicate key: orjson would keep the last
        '"n" : 1, "n":2',  # the same with a space before the colon
        '"n":12345678901234567890123',  # orjson would read a float
        '"n":123456789012345678901234567890.5',
        '"n":-98765432109876543210',
        '"n":1e400',  # overflows a float
        '"n":NaN',
        '"n":"\\ud800"',  # a lone surrogate
        '"n":"a\\u003ab","n":"c"',  # an escaped colon would spoil the count
        '"n":' + "[" * 200 + "]" * 200,  # deeper than the limit
        '"n":' + "[" * 100 + "]" * 100,  # deep, within the limit
        '"n":"x:y","m":{"k":[1,2.5,-0,true,null,"\\u00e9\\/"]}',
        '"n":1.0,"m":1,"o":-0.0,"p":1e-400',
    ],
)
def test_reading_a_record_gives_the_checked_loaders_data_or_error(
    tmp_path: Path, body: str
) -> None:
    text = '{"node_records":[' + _NODE + "]," + body + "}"
    path = tmp_path / "r.osoplog.json"
    path.write_text(text)
    try:
        expected: Any = json_loads_checked(text.encode(), str(path))
    except LoadError as exc:
        with pytest.raises(LoadError) as got:
            read_record_data(path)
        assert str(got.value) == str(exc)
        return
    data = read_record_data(path)
    # repr tells 1 from 1.0 and an int from a float, which == does not
    assert repr(data) == repr(expected)


def _variants() -> tuple[Any, list[dict[str, Any]]]:
    """Records of one process with retries, skips, a foreign node, joins out of order."""
    gen = generate(REVIEW_TREE, REVIEW_STEPS, 40, seed=7)
    records = [copy.deepcopy(r) for r in gen.records]
    rng = random.Random(3)
    for i, rec in enumerate(list(records)):
        nodes = rec["node_records"]
        if i % 5 == 1 and len(nodes) > 2:  # a join that starts before a branch ends
            nodes[-1]["started_at"] = nodes[0]["started_at"]
        if i % 7 == 2:
            nodes.append({**nodes[0], "node_id": "intruder"})
        if i % 4 == 3:
            rng.shuffle(nodes)  # file order breaks ties between equal instants
        if i % 6 == 4:
            rec["status"] = "FAILED"
            del nodes[len(nodes) // 2 :]
    return workflow_from_dict(gen.workflow), records


def test_a_variant_replayed_once_gives_every_record_its_own_result() -> None:
    workflow, records = _variants()
    # each record also as a copy shifted in time (the same variant) and renamed
    copies = []
    for i, rec in enumerate(records):
        twin = json.loads(json.dumps(rec).replace("2026-01-", "2027-03-"))
        twin["run_id"] = f"twin-{i}"
        copies.append(twin)
    replayer = Replayer(workflow)
    for index, rec in enumerate(records + copies):
        plain = plain_record(rec)
        name = f"r{index}.osoplog.json"
        got = replayer.replay(plain, name)
        assert got.to_dict() == replay(workflow, plain.record(), name).to_dict()
    assert len(replayer._results) < len(records + copies)  # copies were not replayed again


def test_records_alike_but_in_another_order_are_not_taken_for_each_other() -> None:
    workflow, records = _variants()
    rec = next(r for r in records if len(r["node_records"]) > 3)
    later = copy.deepcopy(rec)
    nodes = later["node_records"]
    # the second step now starts before the first: another order, another replay
    nodes[1]["started_at"] = "2025-12-31T00:00:00.000Z"
    replayer = Replayer(workflow)
    for name, data in (("a", rec), ("b", later)):
        plain = plain_record(data)
        assert (
            replayer.replay(plain, name).to_dict()
            == replay(workflow, plain.record(), name).to_dict()
        )
    assert len(replayer._results) == 2
