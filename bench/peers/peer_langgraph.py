"""LangGraph with SqliteSaver on one workload: ``python peer_langgraph.py chain|fan SIZE FOLDER``.

A StateGraph of no-op nodes in the same shape as OSOP's (a chain; or start, SIZE
parallel branches, a join waiting for all of them), checkpointed to a SQLite file
under FOLDER with ``durability="sync"``: each step's checkpoint is written before
the next step starts, as OSOP journals each transition before acting on it.
Runs in `.venv-peers` (bench/peers/requirements.txt). Prints one JSON measurement.
"""

from __future__ import annotations

import operator
import sys
import uuid
from importlib.metadata import version
from typing import Annotated, Any, TypedDict

from harness import Store, emit, measure, worker_args
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph import END, START, StateGraph


class State(TypedDict):
    n: Annotated[int, operator.add]  # summed, so parallel branches may all write it


def noop(state: State) -> dict[str, int]:
    return {"n": 1}


def chain(size: int) -> StateGraph[Any]:
    graph = StateGraph(State)
    for i in range(size):
        graph.add_node(f"n{i}", noop)
    graph.add_edge(START, "n0")
    for i in range(size - 1):
        graph.add_edge(f"n{i}", f"n{i + 1}")
    graph.add_edge(f"n{size - 1}", END)
    return graph


def fan(width: int) -> StateGraph[Any]:
    graph = StateGraph(State)
    branches = [f"b{i}" for i in range(width)]
    for name in ["start", *branches, "join"]:
        graph.add_node(name, noop)
    graph.add_edge(START, "start")
    for name in branches:
        graph.add_edge("start", name)
    graph.add_edge(branches, "join")  # the join waits for every branch
    graph.add_edge("join", END)
    return graph


def main() -> None:
    workload, size, folder = worker_args(sys.argv[1:])
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / "checkpoints.sqlite"
    build = chain if workload == "chain" else fan
    nodes = size if workload == "chain" else size + 2
    with SqliteSaver.from_conn_string(str(database)) as saver:
        warm = build(3).compile(checkpointer=saver)
        warm.invoke({"n": 0}, {"configurable": {"thread_id": uuid.uuid4().hex}}, durability="sync")
        app = build(size).compile(checkpointer=saver)
        config = {"configurable": {"thread_id": uuid.uuid4().hex}, "recursion_limit": size + 10}

        def run() -> None:
            final = app.invoke({"n": 0}, config, durability="sync")
            assert final["n"] == nodes, final

        measured = measure(
            run,
            nodes=nodes,
            version=f"langgraph {version('langgraph')}, "
            f"langgraph-checkpoint-sqlite {version('langgraph-checkpoint-sqlite')}",
            store=Store(database, sqlite=True),
        )
    emit(measured)


if __name__ == "__main__":
    main()
