"""SOP Hub under load: 100 concurrent searches and 20 concurrent publishes against a hub
holding 10,000 generated packages, on SQLite and on PostgreSQL.

Run: ``python bench/bench_hub.py [--packages N]``.  The hub runs as ``osop hub serve``
in its own process (uvicorn, rate limits off); requests come from one asyncio client.
Baseline, measured in the same run on the same hub: the same requests sent one at a
time (sequential), so the ratio says what concurrency costs each request.  Latencies
are per request, p50/p95 over the batch.  PostgreSQL is skipped (with the reason)
when its binaries are absent; it is started by tests/pg_server.py on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from hub_servers import hub_process  # noqa: E402
from pg_server import PostgresServer, unavailable_reason  # noqa: E402

from osop.hub.package import content_hash  # noqa: E402
from osop.hub.store import HubStore  # noqa: E402
from osop.hub.summary import summarize_package  # noqa: E402

WORDS = (  # noqa: SIM905 (a paragraph of words reads better than a list literal)
    "invoice refund deploy rollback onboarding incident triage review approve release "
    "payment ticket customer vendor audit backup restore migrate schema report billing "
    "contract hiring laptop access security scan patch alert escalate forecast budget "
    "inventory order shipping returns compliance privacy consent translate publish "
    "newsletter campaign lead renewal support outage postmortem certificate rotate"
).split()
NODE_TYPES = ("agent", "api", "cli", "human", "git", "db", "event")
TEMPLATES = 50


def workflow(seed: int, wf_id: str) -> str:
    rng = random.Random(seed)
    words = rng.sample(WORDS, 6)
    nodes = []
    for i in range(rng.randint(3, 7)):
        node_type = rng.choice(NODE_TYPES)
        runtime = '\n    runtime: {command: "echo step"}' if node_type == "cli" else ""
        nodes.append(
            f"  - id: n{i}\n    type: {node_type}\n"
            f"    purpose: {rng.choice(WORDS)} the {rng.choice(WORDS)} for {rng.choice(WORDS)}"
            + runtime
        )
    edges = "\n".join(f"  - {{from: n{i}, to: n{i + 1}}}" for i in range(len(nodes) - 1))
    return (
        f'osop_version: "1.0"\nid: {wf_id}\nname: {words[0].title()} {words[1]}\n'
        f"description: How we {words[2]} the {words[3]} after {words[4]}.\n"
        f"tags: [{words[5]}, {words[0]}]\nnodes:\n" + "\n".join(nodes) + f"\nedges:\n{edges}\n"
    )


def seed_hub(store: HubStore, packages: int) -> float:
    """Store ``packages`` versions through the data layer (each template validated once)."""
    templates = []
    for t in range(TEMPLATES):
        files = {"flow.osop.yaml": workflow(t, f"flow-{t}")}
        templates.append((files, summarize_package("flow.osop.yaml", files), content_hash(files)))
    start = time.perf_counter()
    for i in range(packages):
        files, summary, digest = templates[i % TEMPLATES]
        store.store_version(
            f"owner-{i % 97}", f"pkg-{i}", "1.0.0", "flow.osop.yaml", files, summary, digest
        )
    return time.perf_counter() - start


def percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


async def _timed(client: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> float:
    start = time.perf_counter()
    response = await client.request(method, url, **kwargs)
    elapsed = (time.perf_counter() - start) * 1000
    if response.status_code >= 400:
        raise RuntimeError(f"{method} {url}: {response.status_code} {response.text[:200]}")
    return elapsed


def _publish_args(token: str, n: int, tag: str) -> tuple[str, str, dict[str, Any]]:
    files = {"flow.osop.yaml": workflow(10_000 + n, f"new-{tag}-{n}")}
    body = {"main": "flow.osop.yaml", "files": files, "content_hash": content_hash(files)}
    url = f"/api/v1/packages/bench/new-{tag}-{n}/1.0.0"
    return "PUT", url, {"json": body, "headers": {"Authorization": f"Bearer {token}"}}


async def measure(url: str, token: str) -> dict[str, list[float]]:
    rng = random.Random(7)
    queries = [" ".join(rng.sample(WORDS, rng.choice((1, 2)))) for _ in range(100)]
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=url, timeout=300, limits=limits) as client:
        await _timed(client, "GET", "/api/v1/search", params={"q": "warm up"})
        out: dict[str, list[float]] = {}
        out["search, sequential (baseline)"] = [
            await _timed(client, "GET", "/api/v1/search", params={"q": q}) for q in queries[:20]
        ]
        out["search, 100 concurrent"] = list(
            await asyncio.gather(
                *(_timed(client, "GET", "/api/v1/search", params={"q": q}) for q in queries)
            )
        )
        sequential = []
        for n in range(5):
            method, path, kwargs = _publish_args(token, n, "seq")
            sequential.append(await _timed(client, method, path, **kwargs))
        out["publish, sequential (baseline)"] = sequential
        calls = [_publish_args(token, n, "conc") for n in range(20)]
        out["publish, 20 concurrent"] = list(
            await asyncio.gather(*(_timed(client, m, p, **k) for m, p, k in calls))
        )
        return out


def run_backend(label: str, db_url: str, packages: int) -> None:
    store = HubStore(db_url)
    seconds = seed_hub(store, packages)
    token = store.create_token("bench")
    store.close()
    print(f"\n{label}: {packages} packages stored in {seconds:.1f} s")
    with hub_process(db_url, "--writes-per-minute", "0", "--reads-per-minute", "0") as url:
        results = asyncio.run(measure(url, token))
    baseline: dict[str, float] = {}
    print(f"  {'requests':34} {'n':>4} {'p50 ms':>9} {'p95 ms':>9} {'p50 / baseline':>15}")
    for name, values in results.items():
        p50, p95 = percentiles(values)
        kind = name.split(",")[0]
        if "baseline" in name:
            baseline[kind] = p50
            ratio = "1.00"
        else:
            ratio = f"{p50 / baseline[kind]:.2f}"
        print(f"  {name:34} {len(values):>4} {p50:>9.1f} {p95:>9.1f} {ratio:>15}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="osop-bench-hub-") as tmp:
        run_backend("SQLite", f"sqlite:///{tmp}/hub.sqlite3", args.packages)
        reason = unavailable_reason()
        if reason is not None:
            print(f"\nPostgreSQL: skipped ({reason})")
            return
        with PostgresServer(Path(tmp) / "postgres") as pg:
            run_backend("PostgreSQL", pg.create_database("bench"), args.packages)


if __name__ == "__main__":
    main()
