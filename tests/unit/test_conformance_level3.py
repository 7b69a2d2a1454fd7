"""Level 3 (observable) only for workflows whose runs can be observed; validate stays light."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from osop.format.rules.workflow_rules import conformance_level
from osop.format.workflow import workflow_from_dict

BASE: dict[str, Any] = {
    "osop_version": "1.1",
    "id": "observable",
    "name": "Observable",
    "inputs": [{"name": "pr"}],
    "timeout_sec": 600,
    "nodes": [
        {"id": "build", "type": "cli", "name": "Build", "runtime": {"command": "make"}},
        {
            "id": "review",
            "type": "agent",
            "name": "Review",
            "runtime": {"model": "claude-sonnet-4-20250514"},
        },
    ],
    "edges": [{"from": "build", "to": "review"}],
    "observability": {"tracing": {"enabled": True, "exporter": "otlp"}},
}


def level(**changes: Any) -> tuple[int, list[str]]:
    return conformance_level(workflow_from_dict({**BASE, **changes}))


def test_traced_and_priced_is_level_3() -> None:
    assert level() == (3, [])


@pytest.mark.parametrize(
    ("changes", "hint"),
    [
        ({"observability": {}}, "observability.tracing"),
        ({"observability": {"tracing": {"enabled": False}}}, "observability.tracing"),
        ({"observability": {"tracing": {"exporter": "zipkin"}}}, "zipkin"),
        ({"ledger": {"enabled": True}, "observability": {}}, "observability.tracing"),
    ],
)
def test_not_observable_is_level_2(changes: dict[str, Any], hint: str) -> None:
    got, needs = level(**changes)
    assert got == 2
    assert any(hint in need for need in needs)


def test_an_agent_whose_cost_cannot_be_tracked_keeps_level_2() -> None:
    nodes = [dict(n) for n in BASE["nodes"]]
    nodes[1] = {**nodes[1], "runtime": {"model": "my-private-model"}}
    got, needs = level(nodes=nodes)
    assert got == 2 and "review" in needs[0]
    nodes[1] = {**nodes[1], "runtime": {"provider": "offline"}}
    assert level(nodes=nodes) == (3, [])


def test_price_file_makes_a_model_trackable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prices = tmp_path / "prices.yaml"
    prices.write_text("as_of: '2030-01-01'\nmodels:\n  my-private-model: {input: 0, output: 0}\n")
    monkeypatch.setenv("OSOP_PRICES_FILE", str(prices))
    nodes = [dict(n) for n in BASE["nodes"]]
    nodes[1] = {**nodes[1], "runtime": {"model": "my-private-model"}}
    assert level(nodes=nodes) == (3, [])


def test_validate_imports_no_sdk_and_no_opentelemetry(tmp_path: Path) -> None:
    import yaml

    path = tmp_path / "wf.osop.yaml"
    path.write_text(yaml.safe_dump(BASE))
    code = (
        "import sys\n"
        "from osop.cli.main import main\n"
        "try:\n"
        f"    main(['validate', {str(path)!r}])\n"
        "except SystemExit as exit:\n"
        "    assert exit.code == 0, exit.code\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in "
        "('anthropic', 'openai', 'google', 'opentelemetry', 'httpx')]\n"
        "print(sorted(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout
