"""gateway, event, company and department executors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from osop.executors.base import NodeFailure
from osop.executors.event import EventExecutor
from osop.executors.gateway import GatewayExecutor
from osop.executors.message import CompanyExecutor, DepartmentExecutor

from .helpers import make_ctx, run


def test_gateway_without_expression_does_nothing(tmp_path: Path) -> None:
    result = run(GatewayExecutor().execute(make_ctx({"id": "g", "type": "gateway"}, tmp_path)))
    assert result.outputs == {} and result.wait is None


def test_gateway_evaluates_expression(tmp_path: Path) -> None:
    node = {
        "id": "g",
        "type": "gateway",
        "runtime": {"expression": "outputs.score.value > 5 ? 'high' : 'low'"},
    }
    ctx = make_ctx(node, tmp_path, outputs={"score": {"value": 7}})
    assert run(GatewayExecutor().execute(ctx)).outputs == {"value": "high"}


def test_gateway_bad_expression(tmp_path: Path) -> None:
    node = {"id": "g", "type": "gateway", "runtime": {"expression": "a AND b"}}
    with pytest.raises(NodeFailure) as info:
        run(GatewayExecutor().execute(make_ctx(node, tmp_path)))
    assert info.value.code == "EXPRESSION_ERROR"


def test_event_wait_then_delivered(tmp_path: Path) -> None:
    node = {"id": "hook", "type": "event", "runtime": {"wait_for": "payment.received"}}
    result = run(EventExecutor().execute(make_ctx(node, tmp_path)))
    assert result.wait is not None
    assert (result.wait.kind, result.wait.name) == ("event", "payment.received")
    delivered = run(EventExecutor().execute(make_ctx(node, tmp_path, delivered={"amount": 5})))
    assert delivered.wait is None and delivered.outputs == {"amount": 5}


def test_event_wait_subtype_and_signal(tmp_path: Path) -> None:
    node = {"id": "go", "type": "event", "subtype": "wait"}
    wait = run(EventExecutor().execute(make_ctx(node, tmp_path))).wait
    assert wait is not None and (wait.kind, wait.name) == ("event", "go")
    node = {"id": "s", "type": "event", "runtime": {"signal": "resume"}}
    wait = run(EventExecutor().execute(make_ctx(node, tmp_path))).wait
    assert wait is not None and (wait.kind, wait.name) == ("signal", "resume")


def test_event_emit_records_payload(tmp_path: Path) -> None:
    node = {
        "id": "done",
        "type": "event",
        "runtime": {"event": "build.done", "payload": {"ok": True}},
    }
    result = run(EventExecutor().execute(make_ctx(node, tmp_path)))
    assert result.outputs == {"ok": True}
    assert "recorded event 'build.done'" in result.log[0]


def test_event_emit_publishes_to_bus(tmp_path: Path) -> None:
    published: list[tuple[str, Any]] = []

    async def bus(name: str, payload: Any) -> None:
        published.append((name, payload))

    node = {"id": "done", "type": "event", "runtime": {"payload": "x"}}
    run(EventExecutor().execute(make_ctx(node, tmp_path, services={"event_bus": bus})))
    assert published == [("done", {"payload": "x"})]


def test_company_message_is_recorded_not_sent(tmp_path: Path) -> None:
    node = {
        "id": "notify",
        "type": "company",
        "runtime": {"recipient": "ACME Corp", "message": {"po": 12}},
    }
    result = run(CompanyExecutor().execute(make_ctx(node, tmp_path)))
    assert result.outputs == {"message": {"po": 12}, "recipient": "ACME Corp", "delivered": False}


def test_department_message_defaults(tmp_path: Path) -> None:
    node = {"id": "route", "type": "department", "role": "finance"}
    ctx = make_ctx(node, tmp_path, inputs={"invoice": 7})
    result = run(DepartmentExecutor().execute(ctx))
    assert result.outputs == {"message": {"invoice": 7}, "recipient": "finance", "delivered": False}


def test_message_transport(tmp_path: Path) -> None:
    sent: list[tuple[str, Any, str]] = []

    async def transport(recipient: str, message: Any, node_type: str) -> dict[str, Any]:
        sent.append((recipient, message, node_type))
        return {"message_id": "m-1"}

    node = {"id": "route", "type": "department", "runtime": {"to": "legal", "message": "hi"}}
    ctx = make_ctx(node, tmp_path, services={"message_transport": transport})
    result = run(DepartmentExecutor().execute(ctx))
    assert sent == [("legal", "hi", "department")]
    assert result.outputs["delivered"] is True and result.outputs["message_id"] == "m-1"


def test_message_edge_payload_is_the_message(tmp_path: Path) -> None:
    node = {"id": "route", "type": "company", "name": "Supplier"}
    ctx = make_ctx(node, tmp_path, inputs={"message": {"order": 3}, "other": 1})
    result = run(CompanyExecutor().execute(ctx))
    assert result.outputs["message"] == {"order": 3}
    assert result.outputs["recipient"] == "Supplier"
