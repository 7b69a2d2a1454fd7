"""Cost of one edge condition: compiled CEL vs. a Python function vs. compiling every time.

Run: ``python bench/bench_cel.py``. Figures are CPU time (``time.process_time``:
the machine is shared, and a busy neighbour stretches wall time but not the work
done), medians of 7 rounds. Every figure includes building the edge's
scope (:func:`osop.expr.make_scope`: the bare-name view over the run's state), as
the engine does per edge.
The run state is realistic: 50 finished nodes, one of them with a 1,000-item list,
so the figures also show that an expression pays only for what it reads.

An expression evaluated on the same scalar values as last time runs the CEL
context built then (``CompiledExpression`` keeps it); the "values changing"
row shows the cost when it cannot. The floor is the ``cel`` package alone
running the program on a context it already holds. The CPU time per
evaluation inside the engine is reported by ``bench/bench_engine.py``.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

import cel

from osop.expr import compile_expression, make_scope, osop_functions
from osop.expr.cel import _compile_cached
from osop.expr.functions import NodeFacts

CONDITION = "outputs.test.passed == true && inputs.environment != 'production'"
BARE_CONDITION = "decision == 'approved'"
STATUS_CONDITION = "status('test') == 'success' && attempt() < 3"

_compile_uncached = _compile_cached.__wrapped__

# ``--smoke``: one short round, so CI can check the bench still runs (no figures)
SMOKE = "--smoke" in sys.argv[1:]
ROUNDS = 1 if SMOKE else 7
LOOPS = 20 if SMOKE else 5_000


def _run_state() -> tuple[dict[str, Any], dict[str, Any]]:
    outputs: dict[str, Any] = {
        f"node_{i}": {"ok": True, "count": i, "text": "x" * 200} for i in range(50)
    }
    outputs["test"] = {"passed": True, "failures": 0, "report": "all good"}
    outputs["approve"] = {"decision": "approved", "comment": "LGTM"}
    outputs["fetch"] = {"rows": [{"id": i, "name": f"user{i}"} for i in range(1_000)]}
    inputs = {"environment": "staging", "version": "1.2.3"}
    return outputs, inputs


def _median_us(fn: Callable[[], object]) -> float:
    samples = []
    for _ in range(ROUNDS):
        start = time.process_time()
        for _ in range(LOOPS):
            fn()
        samples.append((time.process_time() - start) / LOOPS * 1e6)
    return statistics.median(samples)


def main() -> None:
    # The engine passes a lazy NodeOutputs view of its state; the plain dict here
    # keeps these figures about the expression layer (bench_engine.py covers the rest).
    outputs, inputs = _run_state()
    facts = {"test": NodeFacts("COMPLETED", 1.5, None, 1)}
    functions = osop_functions(facts.get, current="test", known_ids=set(outputs))

    compiled = compile_expression(CONDITION)
    bare = compile_expression(BARE_CONDITION)
    status = compile_expression(STATUS_CONDITION)

    def osop_compiled() -> object:
        activation = make_scope(own=outputs["test"], inputs=inputs, outputs=outputs)
        return compiled.evaluate(activation)

    def osop_bare() -> object:
        activation = make_scope(own=outputs["approve"], inputs=inputs, outputs=outputs)
        return bare.evaluate(activation)

    def osop_status() -> object:
        activation = make_scope(own=outputs["test"], inputs=inputs, outputs=outputs)
        return status.evaluate(activation, functions)

    def python_condition(v: Mapping[str, Any]) -> bool:
        return bool(
            v["outputs"]["test"]["passed"] is True and v["inputs"]["environment"] != "production"
        )

    def python_baseline() -> object:
        activation = make_scope(own=outputs["test"], inputs=inputs, outputs=outputs)
        return python_condition(activation)

    def compile_each_time() -> object:
        # The same work as ``osop_compiled`` without the cache: lint, analyse, compile.
        activation = make_scope(own=outputs["test"], inputs=inputs, outputs=outputs)
        return _compile_uncached(CONDITION).evaluate(activation)

    changing = compile_expression("outputs.test.failures < 1000000")
    counter = iter(range(10**9))

    def osop_values_changing() -> object:
        # Another value every time: the context cannot be reused.
        state = {**outputs, "test": {"failures": next(counter)}}
        activation = make_scope(own=state["test"], inputs=inputs, outputs=state)
        return changing.evaluate(activation)

    raw_program = cel.compile(CONDITION)
    reused_context = cel.Context(
        {"outputs": {"test": {"passed": True}}, "inputs": {"environment": "staging"}}
    )

    def raw_cel_reused_context() -> object:
        # The floor: the cel package alone, on a context it already holds.
        return raw_program.execute(reused_context)

    def raw_cel_whole_state() -> object:
        # What a naive engine does: hand CEL the whole run state on every evaluation.
        return raw_program.execute({"outputs": outputs, "inputs": inputs})

    for check in (
        osop_compiled,
        osop_bare,
        osop_status,
        osop_values_changing,
        python_baseline,
        compile_each_time,
        raw_cel_reused_context,
    ):
        assert check() is True, check.__name__

    baseline = _median_us(python_baseline)
    rows = [
        ("python function (baseline)", baseline),
        ("osop compiled, dotted names", _median_us(osop_compiled)),
        ("osop compiled, bare name", _median_us(osop_bare)),
        ("osop compiled, status()+attempt()", _median_us(osop_status)),
        ("osop compiled, values changing", _median_us(osop_values_changing)),
        ("raw cel program, reused context", _median_us(raw_cel_reused_context)),
    ]
    slow_loops = 200
    start = time.process_time()
    for _ in range(slow_loops):
        compile_each_time()
    rows.append(
        ("osop compile + evaluate each time", (time.process_time() - start) / slow_loops * 1e6)
    )
    slow_loops = 20
    start = time.process_time()
    for _ in range(slow_loops):
        raw_cel_whole_state()
    rows.append(
        ("raw cel program, whole state passed", (time.process_time() - start) / slow_loops * 1e6)
    )

    print(f"edge condition: {CONDITION}")
    print(f"{'variant':40s} {'median µs':>10s} {'× python':>9s}")
    for name, micros in rows:
        print(f"{name:40s} {micros:10.2f} {micros / baseline:9.1f}")


if __name__ == "__main__":
    main()
