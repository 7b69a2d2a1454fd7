from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from osop.executors.api import ApiExecutor, status_matches
from osop.executors.base import NodeFailure, NodeResult

from .helpers import make_ctx, run

Handler = Callable[[httpx.Request], httpx.Response]


def call(
    runtime: dict[str, Any], tmp_path: Path, handler: Handler | None = None, **kw: Any
) -> NodeResult:
    services = {"http_transport": httpx.MockTransport(handler)} if handler else {}
    ctx = make_ctx(
        {"id": "req", "type": "api", "runtime": runtime}, tmp_path, services=services, **kw
    )
    return run(ApiExecutor().execute(ctx))


def test_get_with_json_body_and_mapping(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"data": {"id": 42, "tags": ["a", "b"]}})

    result = call(
        {
            "url": "https://api.example.com/items",
            "params": {"page": 2},
            "headers": {"X-Trace": "t1"},
            "response_mapping": {"item_id": "$.data.id", "tags": "$.data.tags[*]"},
        },
        tmp_path,
        handler,
    )
    assert result.outputs == {
        "status_code": 200,
        "body": {"data": {"id": 42, "tags": ["a", "b"]}},
        "item_id": 42,
        "tags": ["a", "b"],
    }
    assert seen[0].url == "https://api.example.com/items?page=2"
    assert seen[0].headers["x-trace"] == "t1"


def test_post_json_and_bearer_auth(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.method == "POST"
        assert request.headers["authorization"] == "Bearer tok-123"
        return httpx.Response(201, json={"echo": json.loads(request.content)})

    result = call(
        {
            "method": "post",
            "endpoint": "https://api.example.com/t",
            "body": {"title": "x"},
            "auth": {"type": "bearer", "token": "tok-123"},
        },
        tmp_path,
        handler,
    )
    assert result.outputs["body"] == {"echo": {"title": "x"}}


def test_text_body(tmp_path: Path) -> None:
    result = call(
        {"url": "https://x.example/"}, tmp_path, lambda r: httpx.Response(200, text="plain")
    )
    assert result.outputs["body"] == "plain"


@pytest.mark.parametrize(("status", "code"), [(503, "HTTP_503"), (404, "HTTP_404")])
def test_unexpected_status_fails_with_http_code(tmp_path: Path, status: int, code: str) -> None:
    with pytest.raises(NodeFailure) as info:
        call(
            {"url": "https://x.example/"},
            tmp_path,
            lambda r: httpx.Response(status, json={"error": "nope"}),
        )
    assert info.value.code == code
    assert info.value.outputs == {"status_code": status, "body": {"error": "nope"}}


def test_expected_status_accepts_listed(tmp_path: Path) -> None:
    result = call(
        {"url": "https://x.example/", "expected_status": [200, 404]},
        tmp_path,
        lambda r: httpx.Response(404),
    )
    assert result.outputs["status_code"] == 404


def test_status_matches() -> None:
    assert status_matches(204, None)
    assert not status_matches(302, None)
    assert status_matches(503, "5xx")
    assert status_matches(404, [200, "4XX"])
    assert not status_matches(500, 200)


def test_timeout_maps_to_timeout(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(NodeFailure) as info:
        call({"url": "https://x.example/"}, tmp_path, handler)
    assert info.value.code == "TIMEOUT"


def test_connect_error(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("name resolution failed", request=request)

    with pytest.raises(NodeFailure) as info:
        call({"url": "https://x.example/"}, tmp_path, handler)
    assert info.value.code == "CONNECTION_ERROR"


def test_mapping_that_matches_nothing_fails(tmp_path: Path) -> None:
    with pytest.raises(NodeFailure) as info:
        call(
            {"url": "https://x.example/", "response_mapping": {"id": "$.missing"}},
            tmp_path,
            lambda r: httpx.Response(200, json={}),
        )
    assert info.value.code == "RESPONSE_MAPPING"
    assert "'id'" in info.value.message


def test_missing_url(tmp_path: Path) -> None:
    with pytest.raises(NodeFailure) as info:
        call({"method": "GET"}, tmp_path)
    assert info.value.code == "NO_URL"


def test_secret_in_url_is_redacted_from_messages(tmp_path: Path) -> None:
    with pytest.raises(NodeFailure) as info:
        call(
            {"url": "https://x.example/?key=topsecret99"},
            tmp_path,
            lambda r: httpx.Response(500),
            secret_values=frozenset({"topsecret99"}),
        )
    assert "topsecret99" not in info.value.message


def test_large_body_is_bounded(tmp_path: Path) -> None:
    result = call(
        {"url": "https://x.example/", "max_body_kb": 1},
        tmp_path,
        lambda r: httpx.Response(200, text="y" * 5000),
    )
    assert result.outputs["body_truncated"] is True
    assert len(result.outputs["body"]) == 1024


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        payload = json.dumps({"path": self.path, "ok": True}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def local_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_real_local_server(tmp_path: Path, local_server: str) -> None:
    result = call({"url": f"{local_server}/health", "response_mapping": {"ok": "$.ok"}}, tmp_path)
    assert result.outputs["body"] == {"path": "/health", "ok": True}
    assert result.outputs["ok"] is True


def test_connection_refused_on_a_closed_local_port(tmp_path: Path) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    with pytest.raises(NodeFailure) as info:
        call({"url": f"http://127.0.0.1:{port}/"}, tmp_path)
    assert info.value.code == "CONNECTION_REFUSED"


@pytest.mark.parametrize("url", ["${SLACK_WEBHOOK_URL}", "/relative/path", "ftp://x.example/f"])
def test_non_http_urls_are_invalid(tmp_path: Path, url: str) -> None:
    with pytest.raises(NodeFailure) as info:
        call({"url": url}, tmp_path, lambda r: httpx.Response(200))
    assert info.value.code == "INVALID_URL"
    assert info.value.retryable is False


def test_base_url_with_relative_path(tmp_path: Path) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(204)

    call({"base_url": "https://api.example.com/v2", "url": "/items"}, tmp_path, handler)
    assert seen == ["https://api.example.com/v2/items"]
