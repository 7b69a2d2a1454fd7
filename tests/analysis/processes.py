"""Known processes the analysis tests generate records from."""

from __future__ import annotations

from .generator import Par, Seq, Step, Task, Xor

#: A review pipeline: a flaky fetch, two parallel checks, a costly agent, a slow human,
#: a conditional deploy, and a step that fails with the same error now and then.
REVIEW_STEPS = [
    Step(
        "fetch",
        "api",
        (80.0, 120.0),
        transient_failure_rate=0.3,
        error=("E_CONN", "connection reset"),
    ),
    Step("lint", "cli", (200.0, 1500.0), command="ruff check ."),
    Step("unit_tests", "cli", (300.0, 500.0), command="pytest -q"),
    Step(
        "build",
        "cli",
        (500.0, 4000.0),
        fatal_failure_rate=0.05,
        error=("E_DISK", "no space left on device"),
        command="make build",
    ),
    Step("ai_review", "agent", (1000.0, 2000.0), cost_usd=0.021),
    Step(
        "human_review",
        "human",
        wait_ms=(3_600_000.0, 7_200_000.0),
        risk_inputs=("low", "high"),
        approve_high_risk_rate=0.5,
    ),
    Step("deploy", "cli", (100.0, 150.0), command="kubectl apply -f deploy.yaml"),
    Step("notify", "api", (50.0, 60.0)),
]

REVIEW_TREE = Seq(
    (
        Task("fetch"),
        Par((Task("lint"), Seq((Task("unit_tests"), Task("build"))))),
        Task("ai_review"),
        Task("human_review"),
        Xor(
            "human_review",
            "route",
            (("ship", 0.7, Task("deploy")), ("stop", 0.3, Task("notify"))),
        ),
    )
)

#: A process with one thing for every synthesis rule to find (see test_analysis_synthesize).
SYNTH_STEPS = [
    Step(
        "fetch",
        "api",
        (80.0, 120.0),
        transient_failure_rate=0.3,
        error=("E_CONN", "connection reset"),
        extra={"runtime": {"method": "GET", "url": "https://example.com/src.tar.gz"}},
    ),
    Step(
        "lint",
        "cli",
        (200.0, 400.0),
        tail_rate=0.1,
        tail_ms=(20_000.0, 30_000.0),
        command="ruff check ${outputs.fetch.path}",
    ),
    Step("unit_tests", "cli", (300.0, 500.0), command="pytest ${outputs.fetch.path}"),
    Step(
        "migrate",
        "cli",
        (400.0, 600.0),
        fatal_failure_rate=0.08,
        error=("E_LOCK", "database is locked"),
        command="alembic upgrade head",
    ),
    Step(
        "ai_review",
        "agent",
        (1000.0, 2000.0),
        cost_usd=0.021,
        emits_risk=("low", "high", "high"),
        extra={"inputs": {"diff": "${outputs.migrate.schema_diff}"}},
    ),
    Step(
        "human_review",
        "human",
        wait_ms=(3_600_000.0, 7_200_000.0),
        risk_inputs=("*",),
        approve_high_risk_rate=0.5,
    ),
    Step("deploy", "cli", (100.0, 150.0), command="kubectl apply -f deploy.yaml"),
    Step("cleanup", "cli", (50.0, 80.0), command="rm -rf /var/lib/app/cache"),
    Step("notify", "api", (50.0, 60.0)),
]

SYNTH_TREE = Seq(
    (
        Task("fetch"),
        Task("lint"),
        Task("unit_tests"),
        Task("migrate"),
        Task("ai_review"),
        Task("human_review"),
        Xor(
            "human_review",
            "decision",
            (
                ("approved", 0.5, Seq((Task("deploy"), Task("cleanup")))),
                ("rejected", 0.5, Task("notify")),
            ),
        ),
    )
)
