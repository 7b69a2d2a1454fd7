"""The studio's server without a browser: the API, the folder sandbox, the token,
the Host check, the headers, and the co-editing socket's refusals."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from studio_server import TOKEN

from osop.templates import scaffold

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Any]:
    from osop.studio.app import StudioConfig, create_app

    folder = tmp_path / "plans"
    (folder / "sub").mkdir(parents=True)
    (folder / "flow.osop.yaml").write_text("# by hand\n" + scaffold("basic", "flow"))
    (folder / "sub" / "other.osop.yaml").write_text(scaffold("basic", "other"))
    (folder / "notes.txt").write_text("not a workflow")
    (tmp_path / "secret.osop.yaml").write_text("outside")
    os.symlink(tmp_path / "secret.osop.yaml", folder / "link.osop.yaml")
    app = create_app(StudioConfig(folder=folder, token=TOKEN, store_dir=tmp_path / "store"))
    with TestClient(app, base_url="http://127.0.0.1:8000") as test_client:
        test_client.headers["X-Studio-Token"] = TOKEN
        test_client.folder = folder
        yield test_client


def test_session_lists_only_workflows_inside_the_folder(client: Any) -> None:
    data = client.get("/api/session").json()
    assert data["files"] == ["flow.osop.yaml", "sub/other.osop.yaml"]
    assert "basic" in [t["name"] for t in data["templates"]]
    assert data["views"] == ["graph", "yaml", "story", "roles", "agent", "ledger"]


@pytest.mark.parametrize(
    "path",
    [
        "../secret.osop.yaml",
        "sub/../../secret.osop.yaml",
        "/etc/passwd",
        "link.osop.yaml",  # a symlink pointing out of the folder
        "notes.txt",  # not a file the studio edits
        "sub\\..\\..\\secret.osop.yaml",
        "flow.osop.yaml\x00.txt",
        "",
    ],
)
def test_paths_outside_the_folder_are_refused(client: Any, path: str) -> None:
    assert client.get("/api/file", params={"path": path}).status_code in (400, 403, 422)
    response = client.put("/api/file", json={"path": path, "text": "x: 1\n"})
    assert response.status_code in (400, 403, 422)
    response = client.post("/api/new", json={"path": path, "template": "basic"})
    assert response.status_code in (400, 403, 422)
    assert (client.folder.parent / "secret.osop.yaml").read_text() == "outside"


def test_wrong_or_missing_token_is_refused(client: Any) -> None:
    for token in ("wrong", ""):
        response = client.get(
            "/api/file", params={"path": "flow.osop.yaml"}, headers={"X-Studio-Token": token}
        )
        assert response.status_code == 401
        assert "token" in response.json()["error"]
    del client.headers["X-Studio-Token"]
    assert client.get("/api/session").status_code == 401
    assert client.post("/api/check", json={"path": "flow.osop.yaml", "text": ""}).status_code == 401
    assert client.get("/?token=wrong").status_code == 401
    assert client.get(f"/?token={TOKEN}").status_code == 200


def test_a_foreign_host_header_is_refused(client: Any) -> None:
    response = client.get("/api/session", headers={"Host": "attacker.example:8000"})
    assert response.status_code == 421


def test_every_response_carries_the_content_security_policy(client: Any) -> None:
    for response in (
        client.get(f"/?token={TOKEN}"),
        client.get("/api/session"),
        client.get("/?token=x"),
    ):
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def _refusal(client: Any, url: str, host: str = "127.0.0.1:8000") -> int:
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        client.websocket_connect(url, headers={"host": host}),
    ):
        pass
    return int(refused.value.code)


def test_socket_refuses_wrong_token_foreign_host_and_paths_outside(client: Any) -> None:
    assert _refusal(client, "/ws/flow.osop.yaml?token=wrong") == 4401
    assert _refusal(client, f"/ws/flow.osop.yaml?token={TOKEN}", host="evil.example") == 4421
    for path in (
        "link.osop.yaml",
        "notes.txt",
        "..%2Fsecret.osop.yaml",
        "sub/../../secret.osop.yaml",
    ):
        assert _refusal(client, f"/ws/{path}?token={TOKEN}") in (4403, 1000), path


def test_check_gives_rule_ids_anchored_on_nodes_and_edges(client: Any) -> None:
    text = scaffold("basic", "flow").replace(
        "  - {from: do_the_work, to: check_result}",
        "  - {from: do_the_work, to: check_result, mode: conditional, when: \"result = 'x'\"}\n"
        "  - {from: check_result, to: nowhere}",
    )
    report = client.post("/api/check", json={"path": "flow.osop.yaml", "text": text}).json()
    rules = {(i["rule"], i.get("edge"), i.get("node")) for i in report["issues"]}
    assert ("cel/syntax", 1, None) in rules
    assert any(
        rule.startswith("ref") or "unknown" in rule for rule, edge, _ in rules if edge == 2
    ), rules
    syntax = next(i for i in report["issues"] if i["rule"] == "cel/syntax")
    assert syntax["line"] and syntax["column"]
    assert [n["id"] for n in report["graph"]["nodes"]] == [
        "receive_request",
        "do_the_work",
        "check_result",
    ]


def test_edit_then_save_keeps_comments_and_writes_only_inside(client: Any) -> None:
    original = (client.folder / "flow.osop.yaml").read_text()
    ops = [
        {
            "op": "add_node",
            "node": {
                "id": "notify",
                "type": "api",
                "name": "Notify",
                "x-studio": {"x": 10, "y": 300},
            },
        },
        {"op": "add_edge", "edge": {"from": "check_result", "to": "notify"}},
        {"op": "move_nodes", "positions": {"check_result": {"x": 5.6, "y": 200}}},
    ]
    edited = client.post(
        "/api/edit", json={"path": "flow.osop.yaml", "text": original, "ops": ops}
    ).json()["text"]
    assert edited.startswith("# by hand\n")
    saved = client.put("/api/file", json={"path": "flow.osop.yaml", "text": edited}).json()
    assert saved["report"]["valid"]
    on_disk = (client.folder / "flow.osop.yaml").read_text()
    assert on_disk == edited
    assert "  - {from: check_result, to: notify}\n" in on_disk
    assert "    x-studio: {x: 6, y: 200}\n" in on_disk
    # Only the lines the edits touched changed.
    added = set(on_disk.splitlines()) - set(original.splitlines())
    assert added == {
        "    x-studio: {x: 6, y: 200}",
        "  - id: notify",
        "    type: api",
        "    name: Notify",
        "    x-studio: {x: 10, y: 300}",
        "  - {from: check_result, to: notify}",
    }


def test_a_bad_edit_changes_nothing_and_says_why(client: Any) -> None:
    text = (client.folder / "flow.osop.yaml").read_text()
    for ops, words in (
        ([{"op": "set_node", "id": "ghost", "fields": {"name": "x"}}], "no node 'ghost'"),
        ([{"op": "add_node", "node": {"id": "do_the_work"}}], "already has a node"),
        ([{"op": "remove_edge", "index": 9}], "no edge at /edges/9"),
        ([{"op": "set_node", "id": "do_the_work", "fields": {"runtime": {"a": 1}}}], "YAML view"),
        ([{"op": "explode"}], "unknown edit"),
    ):
        response = client.post(
            "/api/edit", json={"path": "flow.osop.yaml", "text": text, "ops": ops}
        )
        assert response.status_code == 422
        assert words in response.json()["error"]


def test_new_from_template_refuses_to_overwrite(client: Any) -> None:
    created = client.post(
        "/api/new", json={"path": "team/new.osop.yaml", "template": "deployment", "id": "ship-it"}
    )
    assert created.status_code == 200
    assert "id: ship-it" in (client.folder / "team" / "new.osop.yaml").read_text()
    again = client.post("/api/new", json={"path": "team/new.osop.yaml", "template": "basic"})
    assert again.status_code == 403 and "already exists" in again.json()["error"]
    bad_id = client.post(
        "/api/new", json={"path": "x.osop.yaml", "template": "basic", "id": "Not Kebab"}
    )
    assert bad_id.status_code == 422 and "kebab-case" in bad_id.json()["error"]


def test_simulate_records_a_run_the_ledger_reads(client: Any) -> None:
    text = (client.folder / "flow.osop.yaml").read_text()
    run_id = client.post("/api/simulate", json={"path": "flow.osop.yaml", "text": text}).json()[
        "run_id"
    ]
    runs = client.get("/api/runs", params={"workflow_id": "flow"}).json()["runs"]
    assert [r["run_id"] for r in runs] == [run_id]
    record = client.get(f"/api/runs/{run_id}").json()["record"]
    assert record["mode"] == "simulated" and record["status"] == "COMPLETED"
    assert [r["node_id"] for r in record["node_records"]] == [
        "receive_request",
        "do_the_work",
        "check_result",
    ]
    assert client.get("/api/runs/..%2F..%2Fetc").status_code in (404, 422)
    broken = text.replace("to: check_result}", "to: nowhere}")
    refused = client.post("/api/simulate", json={"path": "flow.osop.yaml", "text": broken})
    assert refused.status_code == 422 and "errors" in refused.json()["error"]


def test_request_body_limits(client: Any) -> None:
    assert client.post("/api/check", content=b"not json").status_code == 400
    assert client.post("/api/check", json=[1, 2]).status_code == 400
    assert client.post("/api/check", json={"path": "flow.osop.yaml", "text": 3}).status_code == 400
    huge = client.post("/api/check", content=b"x" * (5 * 1024 * 1024))
    assert huge.status_code == 413


def test_listening_on_every_address_takes_any_host_but_still_the_token(tmp_path: Path) -> None:
    from osop.studio.app import StudioConfig, create_app

    app = create_app(StudioConfig(folder=tmp_path, token=TOKEN, host="0.0.0.0"))
    with TestClient(app, base_url="http://192.0.2.7:8000") as anywhere:
        assert anywhere.get("/api/session").status_code == 401
        assert anywhere.get("/api/session", headers={"X-Studio-Token": TOKEN}).status_code == 200


def test_schema_of_each_kind(client: Any) -> None:
    assert client.get("/api/schema").json()["$defs"]["node"]
    assert "sections" in client.get("/api/schema", params={"kind": "sop"}).json()["properties"]
    assert client.get("/api/schema", params={"kind": "../x"}).status_code == 400
