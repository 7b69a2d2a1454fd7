"""`osop synthesize --llm`: model proposals pass the same validation, and are marked."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

from osop.analysis.llm_proposals import MARK, propose_with_llm
from osop.analysis.synthesize import dump_workflow, improve
from osop.cli.main import cli
from osop.format.validate import validate_text
from osop.format.workflow import workflow_from_dict
from osop.llm import ChatRequest, ChatResponse, OfflineProvider, Usage
from osop.record.model import record_from_dict

from .generator import generate
from .processes import SYNTH_STEPS, SYNTH_TREE


class ScriptedProvider:
    """Answers with a fixed JSON text (what a real model might say)."""

    name = "scripted"

    def __init__(self, answer: Any) -> None:
        self.answer = answer if isinstance(answer, str) else json.dumps(answer)
        self.prompts: list[str] = []

    async def chat(self, request: ChatRequest) -> ChatResponse:
        self.prompts.append(request.messages[-1].text)
        assert request.output_schema is not None
        assert set(request.output_schema["properties"]) == {"changes", "rationale"}
        return ChatResponse(self.answer, usage=Usage(100, 20), model=request.model)


def _result() -> Any:
    gen = generate(SYNTH_TREE, SYNTH_STEPS, 60, seed=3)
    return improve(workflow_from_dict(gen.workflow), [record_from_dict(r) for r in gen.records])


def test_valid_changes_kept_invalid_refused_and_marked() -> None:
    result = _result()
    before = len(result.proposals)
    provider = ScriptedProvider(
        {
            "rationale": "deploys should be bounded",
            "changes": [
                {
                    "type": "set_node_field",
                    "node": "deploy",
                    "field": "timeout_sec",
                    "value": 120,
                    "reason": "bound the deploy",
                },
                {"type": "add_edge", "from": "deploy", "to": "nowhere", "reason": "bad"},
                {"type": "remove_node", "node": "deploy"},
                {"type": "set_node_field", "node": "deploy", "field": "id", "value": "x"},
                {
                    "type": "add_node",
                    "before": "notify",
                    "node": {"id": "log_rejection", "type": "system", "name": "Log"},
                },
                {"type": "set_node_field", "node": "lint", "field": "timeout_sec", "value": "ten"},
            ],
        }
    )
    asyncio.run(propose_with_llm(result, provider, "m1", goal="speed"))
    assert "Goal: speed" in provider.prompts[0] and "human_review" in provider.prompts[0]
    assert result.llm is not None and result.llm["accepted"] == 2
    assert len(result.llm["rejected"]) == 4
    why = " ".join(r["why"] for r in result.llm["rejected"])
    assert "nowhere" in why and "remove_node" in why and "'id' may not be set" in why
    new = result.proposals[before:]
    assert [(p.type, p.target, p.source) for p in new] == [
        ("set_node_field", "deploy", "llm"),
        ("add_node", "log_rejection", "llm"),
    ]
    wf = result.workflow
    deploy = next(n for n in wf["nodes"] if n["id"] == "deploy")
    assert deploy["timeout_sec"] == 120 and deploy[MARK] == "llm"
    assert any(e.get("to") == "log_rejection" for e in wf["edges"])
    assert validate_text(dump_workflow(wf), "x.osop", kind="workflow").errors == []
    record = result.iteration_record()["iteration"]
    assert record["llm"]["model"] == "m1"
    assert [c["source"] for c in record["proposed_changes"]].count("llm") == 2


def test_unusable_answer_changes_nothing() -> None:
    result = _result()
    text = dump_workflow(result.workflow)
    asyncio.run(propose_with_llm(result, ScriptedProvider("I think it is fine."), "m"))
    assert dump_workflow(result.workflow) == text
    assert result.llm is not None and result.llm["rejected"][0]["why"] == "not the JSON asked for"


def test_offline_provider_end_to_end(tmp_path: Path) -> None:
    result = _result()
    asyncio.run(propose_with_llm(result, OfflineProvider(), "offline"))
    assert result.llm is not None and result.llm["provider"] == "offline"
    gen = generate(SYNTH_TREE, SYNTH_STEPS, 30, seed=8)
    base = tmp_path / "base.osop"
    base.write_text(yaml.safe_dump(gen.workflow, sort_keys=False))
    for i, r in enumerate(gen.records):
        (tmp_path / f"{i}.osoplog.json").write_text(json.dumps(r))
    out, insights = tmp_path / "out.osop", tmp_path / "it.json"
    args = ["synthesize", str(tmp_path / "*.osoplog.json"), "--base", str(base), "-o", str(out)]
    run = CliRunner().invoke(cli, [*args, "--insights", str(insights), "--llm", "offline"])
    assert run.exit_code == 0, run.output
    assert "llm (offline, offline)" in run.output
    assert json.loads(insights.read_text())["iteration"]["llm"]["provider"] == "offline"
    assert CliRunner().invoke(cli, ["validate", str(out)]).exit_code == 0
