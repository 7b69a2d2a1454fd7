"""`osop export` read back by PM4Py; conformance figures cross-checked with PM4Py.

PM4Py is a test-only dependency and slow to import: imported once, here.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from osop.analysis.conformance import replay
from osop.analysis.export_ocel import build_ocel
from osop.cli.main import cli
from osop.format.workflow import workflow_from_dict
from osop.record.model import record_from_dict

from .generator import generate
from .processes import REVIEW_STEPS, REVIEW_TREE

pytestmark = pytest.mark.slow
pm4py = pytest.importorskip("pm4py")
pd = pytest.importorskip("pandas")


@pytest.fixture(scope="module")
def generated():  # type: ignore[no-untyped-def]
    return generate(REVIEW_TREE, REVIEW_STEPS, 30, seed=21)


@pytest.fixture(scope="module")
def log_dir(generated, tmp_path_factory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("logs")
    for i, rec in enumerate(generated.records):
        (folder / f"{i:02}.osoplog.json").write_text(json.dumps(rec))
    # a hostile value must survive as text
    first = json.loads((folder / "00.osoplog.json").read_text())
    first["node_records"][0]["human_metadata"] = {"actor": 'a<b>&"c"\x01'}
    (folder / "00.osoplog.json").write_text(json.dumps(first))
    return folder


def test_xes_read_back(generated, log_dir, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "runs.xes"
    result = CliRunner().invoke(cli, ["export", str(log_dir), "--to", "xes", "-o", str(out)])
    assert result.exit_code == 0, result.output
    df = pm4py.read_xes(str(out))
    attempts = [r for rec in generated.records for r in rec["node_records"]]
    assert len(df) == 2 * len(attempts)
    assert df["case:concept:name"].nunique() == len(generated.records)
    assert set(df["lifecycle:transition"]) == {"start", "complete", "ate_abort"}
    failed = sum(1 for r in attempts if r["status"] == "FAILED")
    assert (df["lifecycle:transition"] == "ate_abort").sum() == failed
    assert set(df["concept:name"]) == {s.id for s in REVIEW_STEPS}
    assert 'a<b>&"c"\ufffd' in set(df["org:resource"].dropna())
    first = generated.records[1]
    trace = df[df["case:concept:name"] == first["run_id"]].sort_values("time:timestamp")
    assert trace.iloc[0]["concept:name"] == "fetch"
    assert trace.iloc[0]["time:timestamp"].isoformat().startswith("2026-01-01T01:00:00")
    # the log is usable for discovery as it is
    net, _im, _fm = pm4py.discover_petri_net_inductive(df[df["lifecycle:transition"] == "complete"])
    assert len(net.transitions) >= len(REVIEW_STEPS)


def test_ocel_read_back(generated, log_dir, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "runs.jsonocel"
    result = CliRunner().invoke(cli, ["export", str(log_dir), "--to", "ocel", "-o", str(out)])
    assert result.exit_code == 0, result.output
    ocel = pm4py.read_ocel2_json(str(out))
    attempts = [r for rec in generated.records for r in rec["node_records"]]
    assert len(ocel.events) == len(attempts)
    types = ocel.objects["ocel:type"].value_counts().to_dict()
    assert types["run"] == len(generated.records)
    assert types["node"] == len(REVIEW_STEPS)
    assert types["model"] == 1 and types["human"] == 2
    qualifiers = set(ocel.relations["ocel:qualifier"])
    assert {"run", "node", "performed by", "uses model", "produces"} <= qualifiers
    assert set(ocel.events["ocel:activity"]) == {s.id for s in REVIEW_STEPS}


def test_ocel_document_shape(generated) -> None:  # type: ignore[no-untyped-def]
    doc = build_ocel(record_from_dict(r) for r in generated.records[:2])
    assert set(doc) == {"objectTypes", "eventTypes", "objects", "events"}
    event = doc["events"][0]
    assert set(event) == {"id", "type", "time", "attributes", "relationships"}
    assert len({e["id"] for e in doc["events"]}) == len(doc["events"])


# --- our token replay against PM4Py's ---------------------------------------------------


def _net(edges: list[tuple[str, str]], nodes: list[str]) -> tuple[Any, Any, Any]:
    from pm4py.objects.petri_net.obj import Marking, PetriNet
    from pm4py.objects.petri_net.utils import petri_utils

    net = PetriNet("osop")
    trans = {n: PetriNet.Transition(n, n) for n in nodes}
    for t in trans.values():
        net.transitions.add(t)
    source, sink = PetriNet.Place("source"), PetriNet.Place("sink")
    net.places.update({source, sink})
    targets = {b for _, b in edges}
    sources = {a for a, _ in edges}
    for n in nodes:
        if n not in targets:
            petri_utils.add_arc_from_to(source, trans[n], net)
        if n not in sources:
            petri_utils.add_arc_from_to(trans[n], sink, net)
    for a, b in edges:
        p = PetriNet.Place(f"{a}->{b}")
        net.places.add(p)
        petri_utils.add_arc_from_to(trans[a], p, net)
        petri_utils.add_arc_from_to(p, trans[b], net)
    return net, Marking({source: 1}), Marking({sink: 1})


def _record(trace: list[str]) -> dict[str, Any]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    nodes = []
    for i, node in enumerate(trace):
        s = start + timedelta(seconds=2 * i)
        nodes.append(
            {
                "node_id": node,
                "node_type": "cli",
                "attempt": 1,
                "status": "COMPLETED",
                "started_at": s.isoformat(),
                "ended_at": (s + timedelta(seconds=1)).isoformat(),
            }
        )
    return {"run_id": "r", "workflow_id": "w", "status": "COMPLETED", "node_records": nodes}


CASES = [
    # (edges, trace) — sequence and parallel split/join (a diamond)
    ([("a", "b"), ("b", "c")], ["a", "b", "c"]),
    ([("a", "b"), ("b", "c")], ["a", "c"]),
    ([("a", "b"), ("b", "c")], ["a", "c", "b"]),
    ([("a", "b"), ("b", "c")], ["b", "c"]),
    ([("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")], ["a", "c", "b", "d"]),
    ([("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")], ["a", "b", "d"]),
    ([("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")], ["a", "d", "b", "c"]),
]


@pytest.mark.parametrize(("edges", "trace"), CASES)
def test_fitness_agrees_with_pm4py(edges: list[tuple[str, str]], trace: list[str]) -> None:
    nodes = sorted({n for e in edges for n in e})
    mode = "parallel" if len({a for a, _ in edges if a == "a"}) and len(edges) == 4 else None
    wf = workflow_from_dict(
        {
            "id": "w",
            "nodes": [{"id": n, "type": "cli"} for n in nodes],
            "edges": [
                {"from": a, "to": b, **({"mode": mode} if mode and a == "a" else {})}
                for a, b in edges
            ],
        }
    )
    ours = replay(wf, record_from_dict(_record(trace)))
    net, im, fm = _net(edges, nodes)
    df = pd.DataFrame(
        {
            "case:concept:name": ["c"] * len(trace),
            "concept:name": trace,
            "time:timestamp": pd.date_range("2026-01-01", periods=len(trace), freq="s", tz="UTC"),
        }
    )
    theirs = pm4py.conformance_diagnostics_token_based_replay(df, net, im, fm)[0]
    assert (ours.missing, ours.remaining) == (theirs["missing_tokens"], theirs["remaining_tokens"])
    assert (ours.consumed, ours.produced) == (theirs["consumed_tokens"], theirs["produced_tokens"])
    assert ours.fitness == pytest.approx(theirs["trace_fitness"])


def test_export_errors(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["export", str(tmp_path / "none.osoplog"), "--to", "xes", "-o", "x.xes"]
    )
    assert result.exit_code == 2  # usage: no such file
    bad = tmp_path / "bad.osoplog.json"
    bad.write_text("[]")
    result = CliRunner().invoke(cli, ["export", str(bad), "--to", "xes", "-o", str(tmp_path / "o")])
    assert result.exit_code == 1 and "Error:" in result.stderr
