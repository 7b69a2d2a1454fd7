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
        '"n":' + "[" * 600 + "]" * 600,  # deeper than orjson encodes
        '"n":' + "[" * 100 + "]" * 100,  # deep, within the limit
        '"n":' + '{"a":[' * 70 + "1" + "]}" * 70,  # mappings and lists, deeper than the limit
        '"n":' + '{"a":' * 127 + "1" + "}" * 127,  # mappings as deep as the limit allows
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


def test_folders_are_listed_in_path_order_without_hidden_or_linked_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from osop.analysis.selection import LOG_SUFFIXES, record_files

    for rel in [
        "a/b.osoplog",
        "a.osoplog",
        "a-c.osoplog.json",
        "a/.hidden/x.osoplog",
        ".x.osoplog",
        "B.OSOPLOG.YAML",
        "a/b/c/d.osoplog.yml",
        "a b/x.osoplog",
        "z.txt",
        "a/b.c/y.osoplog",
        "a/b0.osoplog",
        "dir.osoplog/in.osoplog",
    ]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("{}")
    (tmp_path / "linked").symlink_to(tmp_path / "a")
    (tmp_path / "l.osoplog").symlink_to(tmp_path / "a.osoplog")
    (tmp_path / "broken.osoplog").symlink_to(tmp_path / "nowhere")

    def by_rglob(folder: Path) -> list[str]:  # what record_paths did, one Path per file
        return [
            str(p)
            for p in sorted(
                p
                for p in folder.rglob("*")
                if p.is_file()
                and p.name.lower().endswith(LOG_SUFFIXES)
                and not any(part.startswith(".") for part in p.relative_to(folder).parts)
            )
        ]

    monkeypatch.chdir(tmp_path)
    for given in (str(tmp_path), str(tmp_path) + "/", ".", "a"):
        assert record_files([given]) == by_rglob(Path(given))
    assert "a/b/c/d.osoplog.yml" in record_files(["."])


def test_integer_durations_stay_integers_in_the_figures() -> None:
    from osop.analysis.stats import StatsAccumulator

    def node(node_id: str, ms: float) -> dict[str, Any]:
        # the timestamps agree with duration_ms: the figure is duration_ms as written
        return {
            "node_id": node_id,
            "node_type": "cli",
            "attempt": 1,
            "status": "COMPLETED",
            "started_at": "2026-01-01T00:00:00.000Z",
            "ended_at": f"2026-01-01T00:00:00.{round(ms):03}Z",
            "duration_ms": ms,
        }

    acc = StatsAccumulator()
    for ms in (120, 80.5, 300):
        acc.add_plain(
            plain_record(
                {
                    "run_id": f"r{ms}",
                    "workflow_id": "w",
                    "status": "COMPLETED",
                    "node_records": [node("a", ms), node("b", 2.5)],
                }
            )
        )
    figures = acc.finish()[0].node_stats
    assert figures["a"].duration_ms is not None and figures["b"].duration_ms is not None
    assert repr(figures["a"].duration_ms.maximum) == "300"  # as written, not 300.0
    assert repr(figures["a"].duration_ms.minimum) == "80.5"
    assert repr(figures["b"].duration_ms.maximum) == "2.5"
