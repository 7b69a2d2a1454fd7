"""``osop discover`` against a static site served on 127.0.0.1, and ``osop sop publish-site``."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from osop.cli.main import cli
from osop.discovery import DiscoveryError, check_url, discover, fetch_operation
from osop.errors import ValidationError


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


WORKFLOW = """osop_version: "1.0"
id: {id}
name: {name}
description: {purpose}
inputs:
  ticket_id: {{type: string}}
nodes:
  - id: read
    type: api
    purpose: Read the ticket
    runtime: {{method: GET, url: "https://api.example.com/tickets"}}
  - id: answer
    type: human
    purpose: Answer the customer
edges:
  - {{from: read, to: answer}}
"""


def _sop(refs: list[str]) -> str:
    entries = "\n".join(f"      - ref: {r!r}" for r in refs)
    return f"""sop_version: "1.0"
name: Support desk
description: What our support desk does.
sections:
  - name: Tickets
    workflows:
{entries}
"""


@pytest.fixture
def serve() -> Iterator[object]:
    servers: list[ThreadingHTTPServer] = []

    def start(root: Path) -> str:
        handler = functools.partial(_QuietHandler, directory=str(root))
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _source(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    (src / "flows").mkdir(parents=True)
    (src / "flows" / "refund.osop.yaml").write_text(
        WORKFLOW.format(
            id="refund", name="Refund an order", purpose="Give a customer their money back."
        )
    )
    (src / "flows" / "escalate.osop.yaml").write_text(
        WORKFLOW.format(id="escalate", name="Escalate", purpose="Hand a ticket to engineering.")
    )
    sop = src / "support.sop"
    sop.write_text(_sop(["flows/refund.osop.yaml", "flows/escalate.osop.yaml"]))
    return sop


def test_publish_site_then_discover_and_fetch(tmp_path: Path, serve) -> None:  # type: ignore[no-untyped-def]
    site = tmp_path / "site"
    result = CliRunner().invoke(
        cli, ["sop", "publish-site", str(_source(tmp_path)), "-o", str(site)]
    )
    assert result.exit_code == 0, result.output
    assert (site / ".well-known" / "sop").is_file() and (site / ".sop").is_file()
    assert (site / "sop" / "flows" / "refund.osop.yaml").is_file()
    url = serve(site)
    listing = CliRunner().invoke(cli, ["discover", url])
    assert listing.exit_code == 0, listing.output
    assert f"{url}/.well-known/sop" in listing.output
    assert (
        "Refund an order" in listing.output
        and "Give a customer their money back." in listing.output
    )
    assert "inputs: ticket_id" in listing.output
    out = tmp_path / "got"
    fetched = CliRunner().invoke(cli, ["discover", url, "--fetch", "escalate", "-o", str(out)])
    assert fetched.exit_code == 0, fetched.output
    assert (out / "escalate.osop.yaml").read_text() == (
        site / "sop" / "flows" / "escalate.osop.yaml"
    ).read_text()


def test_well_known_first_then_root(tmp_path: Path, serve) -> None:  # type: ignore[no-untyped-def]
    site = tmp_path / "site"
    (site / "flows").mkdir(parents=True)
    (site / "flows" / "refund.osop.yaml").write_text(
        WORKFLOW.format(id="refund", name="Refund", purpose="Money back.")
    )
    (site / ".sop").write_text(_sop(["flows/refund.osop.yaml"]))
    url = serve(site)
    found = discover(url)
    assert found.document_url == f"{url}/.sop"
    assert [o.workflow_id for o in found.operations] == ["refund"]
    (site / ".well-known").mkdir()
    (site / ".well-known" / "sop").write_text(
        _sop(["../flows/refund.osop.yaml"]).replace("Support desk", "Well known")
    )
    assert discover(url).name == "Well known"


@pytest.mark.parametrize(
    "ref", ["https://evil.example/x.osop.yaml", "file:///etc/passwd", "//evil.example/x.osop.yaml"]
)
def test_refs_to_other_hosts_or_files_are_refused(tmp_path: Path, serve, ref: str) -> None:  # type: ignore[no-untyped-def]
    site = tmp_path / "site"
    site.mkdir()
    (site / ".sop").write_text(_sop([ref]))
    url = serve(site)
    with pytest.raises(DiscoveryError, match="refs must stay on"):
        discover(url)
    result = CliRunner().invoke(cli, ["discover", url])
    assert result.exit_code == 1 and "Error:" in result.output and "Traceback" not in result.output


def test_https_required_except_localhost() -> None:
    with pytest.raises(DiscoveryError, match="HTTPS is required"):
        check_url("http://example.com/.sop")
    with pytest.raises(DiscoveryError, match="only https"):
        check_url("file:///etc/passwd")
    assert check_url("http://localhost:8000/.sop")
    assert check_url("http://127.0.0.1:8000/.sop")
    assert check_url("https://example.com/.sop")


def test_no_sop_and_invalid_sop(tmp_path: Path, serve) -> None:  # type: ignore[no-untyped-def]
    site = tmp_path / "site"
    site.mkdir()
    url = serve(site)
    with pytest.raises(DiscoveryError, match=r"publishes no \.sop: tried .*well-known/sop \(404\)"):
        discover(url)
    (site / ".sop").write_text("sections: 12\n")
    with pytest.raises(ValidationError, match="schema/required"):
        discover(url)


def test_oversized_documents_are_refused(tmp_path: Path, serve) -> None:  # type: ignore[no-untyped-def]
    site = tmp_path / "site"
    site.mkdir()
    (site / ".sop").write_text(_sop(["a.osop.yaml"]) + "#" + "x" * 1_100_000 + "\n")
    with pytest.raises(DiscoveryError, match="byte limit"):
        discover(serve(site))


def test_redirect_to_another_origin_is_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"location": "https://evil.example/.sop"})

    with pytest.raises(DiscoveryError, match="another host"):
        discover("https://good.example", transport=httpx.MockTransport(handler))


def test_inline_workflows_are_operations_too(tmp_path: Path) -> None:
    sop = """sop_version: "1.0"
name: Inline
sections:
  - name: S
    workflows:
      - workflow:
          osop_version: "1.0"
          id: hello
          name: Hello
          nodes: [{id: a, type: human, purpose: Say hello}]
          edges: []
"""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/.well-known/sop":
            return httpx.Response(200, text=sop)
        return httpx.Response(404)

    transport = httpx.MockTransport(handler)
    found = discover("https://inline.example", transport=transport)
    assert [o.workflow_id for o in found.operations] == ["hello"]
    _op, path = fetch_operation("https://inline.example", "hello", tmp_path, transport=transport)
    assert path.name == "hello.osop.yaml" and "Say hello" in path.read_text()


def test_mcp_discover_lists_and_fetches(tmp_path: Path, serve) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("mcp")
    import asyncio
    import json

    from mcp import Client

    from osop.mcp import build_server

    site = tmp_path / "site"
    assert (
        CliRunner()
        .invoke(cli, ["sop", "publish-site", str(_source(tmp_path)), "-o", str(site)])
        .exit_code
        == 0
    )
    url = serve(site)
    server = build_server(tmp_path / "store", tmp_path / "work")

    async def call(arguments: dict[str, str]) -> dict[str, object]:
        async with Client(server) as client:
            result = await client.call_tool("osop_discover", arguments)
            assert not result.is_error, result.content
            return json.loads(result.content[0].text)  # type: ignore[no-any-return]

    listing = asyncio.run(call({"url": url}))
    assert [o["workflow_id"] for o in listing["operations"]] == ["refund", "escalate"]  # type: ignore[index]
    fetched = asyncio.run(call({"url": url, "fetch": "refund"}))
    assert Path(str(fetched["path"])).read_text().startswith('osop_version: "1.0"\nid: refund')


def test_publish_site_from_a_folder_of_workflows(tmp_path: Path, serve) -> None:  # type: ignore[no-untyped-def]
    _source(tmp_path)
    site = tmp_path / "site"
    result = CliRunner().invoke(
        cli, ["sop", "publish-site", str(tmp_path / "src" / "flows"), "-o", str(site)]
    )
    assert result.exit_code == 0, result.output
    found = discover(serve(site))
    assert sorted(o.workflow_id or "" for o in found.operations) == ["escalate", "refund"]
    assert all(o.error is None for o in found.operations)
