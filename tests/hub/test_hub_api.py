"""The hub's HTTP API, against SQLite and a real PostgreSQL (the same tests on both)."""

from __future__ import annotations

import json
from typing import Any

from helpers import auth, package_body, record_text, sop_text, workflow_text


def _publish(client: Any, token: str, spec: str, version: str, files: dict[str, str], main: str):  # type: ignore[no-untyped-def]
    return client.put(
        f"/api/v1/packages/{spec}/{version}", json=package_body(files, main), headers=auth(token)
    )


def test_publish_show_latest_and_openapi(client: Any, store: Any) -> None:
    token = store.create_token("acme")
    files = {"deploy.osop.yaml": workflow_text()}
    response = _publish(client, token, "acme/deploy", "1.0.0", files, "deploy.osop.yaml")
    assert response.status_code == 201, response.text
    summary = response.json()["summary"]
    assert summary["kind"] == "workflow"
    assert summary["level"] is not None
    assert summary["node_types"] == ["cli", "human"]
    assert summary["tags"] == ["deploy", "release"]
    assert summary["security"]["approval_gates"] == [
        {"workflow": "deploy.osop.yaml", "node": "approve", "type": "human"}
    ]
    assert summary["workflows"][0]["inputs"] == ["service"]
    files2 = {"deploy.osop.yaml": workflow_text(command="rm -rf build")}
    assert (
        _publish(client, token, "acme/deploy", "1.1.0", files2, "deploy.osop.yaml").status_code
        == 201
    )
    latest = client.get("/api/v1/packages/acme/deploy/latest").json()
    assert latest["version"] == "1.1.0"
    assert latest["summary"]["security"]["risk"] == "dangerous"
    assert latest["files"]["deploy.osop.yaml"]["content"] == files2["deploy.osop.yaml"]
    package = client.get("/api/v1/packages/acme/deploy").json()
    assert [v["version"] for v in package["versions"]] == ["1.1.0", "1.0.0"]
    schema = client.get("/openapi.json").json()
    assert "/api/v1/search" in schema["paths"]
    assert "/api/v1/packages/{owner}/{name}/{version}" in schema["paths"]


def test_versions_are_immutable_and_semver(client: Any, store: Any) -> None:
    token = store.create_token("acme")
    files = {"d.osop.yaml": workflow_text()}
    assert _publish(client, token, "acme/d", "1.0.0", files, "d.osop.yaml").status_code == 201
    again = _publish(
        client, token, "acme/d", "1.0.0", {"d.osop.yaml": workflow_text(name="X")}, "d.osop.yaml"
    )
    assert again.status_code == 409
    assert "immutable" in again.json()["detail"]
    assert (
        client.get("/api/v1/packages/acme/d/1.0.0").json()["files"]["d.osop.yaml"]["content"]
        == files["d.osop.yaml"]
    )
    bad = _publish(client, token, "acme/d", "v2", files, "d.osop.yaml")
    assert bad.status_code == 422
    assert "semantic version" in bad.json()["detail"]


def test_invalid_document_is_422_with_issues_and_nothing_stored(client: Any, store: Any) -> None:
    token = store.create_token("acme")
    broken = workflow_text().replace("type: human", "type: wizard")
    response = _publish(
        client, token, "acme/broken", "1.0.0", {"b.osop.yaml": broken}, "b.osop.yaml"
    )
    assert response.status_code == 422
    rules = {i["rule"] for i in response.json()["issues"]}
    assert "node/unknown-type" in rules
    assert client.get("/api/v1/packages/acme/broken").status_code == 404


def test_yank_hides_from_latest_and_search_but_keeps_the_version(client: Any, store: Any) -> None:
    token = store.create_token("acme")
    for version in ("1.0.0", "1.1.0"):
        files = {"d.osop.yaml": workflow_text()}
        assert _publish(client, token, "acme/d", version, files, "d.osop.yaml").status_code == 201
    response = client.post(
        "/api/v1/packages/acme/d/1.1.0/yank", json={"reason": "broken rollout"}, headers=auth(token)
    )
    assert response.status_code == 200
    assert response.json()["yanked"] is True
    assert client.get("/api/v1/packages/acme/d/latest").json()["version"] == "1.0.0"
    assert client.get("/api/v1/packages/acme/d/1.1.0").json()["yank_reason"] == "broken rollout"
    hits = client.get("/api/v1/search", params={"q": "deploy"}).json()["results"]
    assert [h["version"] for h in hits] == ["1.0.0"]
    client.post("/api/v1/packages/acme/d/1.0.0/yank", json={"reason": "old"}, headers=auth(token))
    page = client.get("/p/acme/d")
    assert page.status_code == 200 and "This version is yanked: broken rollout" in page.text
    undo = client.post(
        "/api/v1/packages/acme/d/1.1.0/yank", json={"undo": True}, headers=auth(token)
    )
    assert undo.json()["yanked"] is False


def test_sop_package_with_its_workflows(client: Any, store: Any) -> None:
    token = store.create_token("acme")
    files = {
        "handbook/release.sop": sop_text(
            ["../flows/deploy.osop.yaml", "../flows/hotfix.osop.yaml"]
        ),
        "flows/deploy.osop.yaml": workflow_text(),
        "flows/hotfix.osop.yaml": workflow_text(
            "hotfix", name="Ship a hotfix", description="Patch production fast."
        ),
    }
    response = _publish(client, token, "acme/handbook", "2.0.0", files, "handbook/release.sop")
    assert response.status_code == 201, response.text
    summary = response.json()["summary"]
    assert summary["kind"] == "sop"
    assert [w["id"] for w in summary["workflows"]] == ["deploy-service", "hotfix"]
    hits = client.get("/api/v1/search", params={"q": "hotfix patch"}).json()["results"]
    assert hits[0]["package"] == "acme/handbook"
    # Refs outside the .sop's folder but inside the package are the package's own: drawn.
    document = client.get("/p/acme/handbook/2.0.0/document").text
    assert "Ship a hotfix" in document and "Deploy a service" in document
    assert "(missing)" not in document


def test_search_filters_and_purposes(client: Any, store: Any) -> None:
    token = store.create_token("acme")
    other = store.create_token("globex")
    _publish(client, token, "acme/deploy", "1.0.0", {"d.osop.yaml": workflow_text()}, "d.osop.yaml")
    onboarding = (
        workflow_text(
            "onboard",
            name="Onboard a hire",
            description="Accounts and laptop for a new hire.",
            tags="[people]",
        )
        .replace("type: human", "type: agent")
        .replace("A release manager approves the rollout", "An agent orders the laptop")
    )
    _publish(client, other, "globex/onboard", "0.1.0", {"o.osop.yaml": onboarding}, "o.osop.yaml")

    def names(**params: Any) -> list[str]:
        return [h["package"] for h in client.get("/api/v1/search", params=params).json()["results"]]

    assert names(q="release manager approves") == ["acme/deploy"]  # a node's purpose
    assert names(q="laptop") == ["globex/onboard"]
    assert sorted(names(q="production")) == ["acme/deploy", "globex/onboard"]
    assert names(q="production", node_type="human") == ["acme/deploy"]
    assert names(q="production", tag="people") == ["globex/onboard"]
    assert names(q="production", owner="globex") == ["globex/onboard"]
    assert names(q="production", level=3) == [] or all(
        h["level"] >= 3
        for h in client.get("/api/v1/search", params={"q": "production", "level": 3}).json()[
            "results"
        ]
    )
    # query operators are words, never syntax
    assert client.get("/api/v1/search", params={"q": 'rollout" OR *:('}).status_code == 200


def test_evidence_changes_the_ranking_and_serves_stats(client: Any, store: Any) -> None:
    token = store.create_token("acme")
    a = workflow_text("deploy-a", name="Deploy A")
    b = workflow_text("deploy-b", name="Deploy B")
    _publish(client, token, "acme/deploy-a", "1.0.0", {"a.osop.yaml": a}, "a.osop.yaml")
    _publish(client, token, "acme/deploy-b", "1.0.0", {"b.osop.yaml": b}, "b.osop.yaml")
    before = [
        h["package"]
        for h in client.get("/api/v1/search", params={"q": "deploy service"}).json()["results"]
    ]
    loser = before[-1]
    wf_id = "deploy-a" if loser == "acme/deploy-a" else "deploy-b"
    for run in range(1, 9):
        response = client.post(
            f"/api/v1/packages/{loser}/1.0.0/records",
            json={"record": record_text(wf_id, run=run)},
            headers=auth(token),
        )
        assert response.status_code == 201, response.text
    after = [
        h["package"]
        for h in client.get("/api/v1/search", params={"q": "deploy service"}).json()["results"]
    ]
    assert after[0] == loser and after != before
    stats = client.get(f"/api/v1/packages/{loser}/1.0.0/stats").json()
    (workflow,) = stats["workflows"]
    assert workflow["total_runs"] == 8
    assert workflow["success_rate"] == 1.0
    assert "p95_duration_ms" in workflow


def test_records_are_redacted_and_must_match_the_version(client: Any, store: Any) -> None:
    token = store.create_token("acme")
    _publish(client, token, "acme/d", "1.0.0", {"d.osop.yaml": workflow_text()}, "d.osop.yaml")
    secret = "sk-live-abcdef0123456789"
    response = client.post(
        "/api/v1/packages/acme/d/1.0.0/records",
        json={"record": record_text(secret=secret)},
        headers=auth(token),
    )
    assert response.status_code == 201
    from sqlalchemy import select

    from osop.hub.models import RecordRow

    with store._session() as session:
        stored = session.scalars(select(RecordRow.content)).all()
    assert len(stored) == 1 and secret not in stored[0]
    assert json.loads(stored[0])["node_records"][0]["inputs"]["api_token"] == "***"
    wrong = client.post(
        "/api/v1/packages/acme/d/1.0.0/records",
        json={"record": record_text("someone-else")},
        headers=auth(token),
    )
    assert wrong.status_code == 422 and "does not contain" in wrong.json()["detail"]
    invalid = client.post(
        "/api/v1/packages/acme/d/1.0.0/records", json={"record": "run_id: 1"}, headers=auth(token)
    )
    assert invalid.status_code == 422


def test_pages_escape_document_values(client: Any, store: Any) -> None:
    token = store.create_token("acme")
    evil = workflow_text(
        name="'<script>alert(1)</script>'", description="'<img src=x onerror=alert(2)>'"
    )
    assert (
        _publish(
            client, token, "acme/evil", "1.0.0", {"e.osop.yaml": evil}, "e.osop.yaml"
        ).status_code
        == 201
    )
    for url in ("/", "/search?q=script", "/p/acme/evil", "/p/acme/evil/1.0.0/document"):
        page = client.get(url)
        assert page.status_code == 200, url
        assert "<script>alert" not in page.text and "<img src=x" not in page.text, url
        assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get("/p/acme/evil").text


def test_migrations_are_alembic_and_idempotent(db_url: str, store: Any) -> None:
    from sqlalchemy import text

    from osop.hub.store import HubStore

    again = HubStore(db_url)  # a second open upgrades nothing and breaks nothing
    with again.engine.connect() as connection:
        assert (
            connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0001"
        )
    again.close()


def test_default_database_is_in_the_users_data_folder(tmp_path: Any, monkeypatch: Any) -> None:
    from osop.hub.store import default_db_url

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_db_url() == f"sqlite:///{tmp_path}/osop/hub.sqlite3"


def test_imported_agent_sessions_are_evidence_for_their_synthesised_workflow(
    client: Any, store: Any, tmp_path: Any
) -> None:
    from pathlib import Path

    from click.testing import CliRunner

    from osop.cli.main import cli
    from osop.importers import import_sessions, write_records

    sessions = Path(__file__).parents[1] / "importers" / "fixtures" / "claude-code"
    records: list[Path] = []
    for imported in import_sessions("claude-code", [sessions]):
        records.extend(write_records(imported, tmp_path / "records"))
    workflow = tmp_path / "agent.osop.yaml"
    synthesized = CliRunner().invoke(
        cli, ["synthesize", *map(str, records), "-o", str(workflow)], catch_exceptions=False
    )
    assert synthesized.exit_code == 0, synthesized.output
    token = store.create_token("acme")
    files = {"agent.osop.yaml": workflow.read_text()}
    assert (
        _publish(client, token, "acme/agent", "0.1.0", files, "agent.osop.yaml").status_code == 201
    )
    wf_id = client.get("/api/v1/packages/acme/agent/0.1.0").json()["summary"]["workflows"][0]["id"]
    top = [r for r in records if ".agent-" not in r.name]  # sub-agent runs are not whole sessions
    refused = client.post(
        "/api/v1/packages/acme/agent/0.1.0/records",
        json={"record": top[0].read_text()},
        headers=auth(token),
    )
    assert refused.status_code == 422 and "--workflow" in refused.json()["detail"]
    for path in top:
        response = client.post(
            "/api/v1/packages/acme/agent/0.1.0/records",
            json={"record": path.read_text(), "workflow": wf_id},
            headers=auth(token),
        )
        assert response.status_code == 201, response.text
    stats = client.get("/api/v1/packages/acme/agent/0.1.0/stats").json()
    assert [(w["workflow_id"], w["total_runs"]) for w in stats["workflows"]] == [(wf_id, len(top))]
    wrong = client.post(
        "/api/v1/packages/acme/agent/0.1.0/records",
        json={"record": top[0].read_text(), "workflow": "nope"},
        headers=auth(token),
    )
    assert wrong.status_code == 422 and "has no workflow 'nope'" in wrong.json()["detail"]
