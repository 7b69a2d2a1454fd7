"""The client side: package collection, names and versions, and what `pull` refuses."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from helpers import sop_text, workflow_text

from osop.cli.main import cli
from osop.hub.client import HubClient, HubClientError, parse_spec
from osop.hub.package import (
    PackageError,
    check_package_path,
    collect_package,
    content_hash,
    file_digest,
    semver_key,
)


def test_collect_keeps_the_layout_of_refs_outside_the_sop_folder(tmp_path: Path) -> None:
    (tmp_path / "handbook").mkdir()
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "d.osop.yaml").write_text(workflow_text())
    sop = tmp_path / "handbook" / "h.sop"
    sop.write_text(sop_text(["../flows/d.osop.yaml", "../flows/missing.osop.yaml"]))
    package = collect_package(sop)
    assert package.main == "handbook/h.sop"
    assert sorted(package.files) == ["flows/d.osop.yaml", "handbook/h.sop"]
    assert package.missing == ["../flows/missing.osop.yaml"]
    assert package.content_hash == content_hash(package.files)


@pytest.mark.parametrize(
    "ref", ["https://evil.example/x.osop.yaml", "file:///etc/passwd", "/etc/x"]
)
def test_collect_refuses_refs_that_are_not_relative_paths(tmp_path: Path, ref: str) -> None:
    sop = tmp_path / "h.sop"
    sop.write_text(sop_text([ref]))
    with pytest.raises(PackageError, match="ref"):
        collect_package(sop)


def test_paths_names_and_versions() -> None:
    assert check_package_path("a/b.osop.yaml") == "a/b.osop.yaml"
    for bad in ("../a", "/a", "a/../b", "a\\b", "", ".git/config", "https://x/y"):
        with pytest.raises(PackageError):
            check_package_path(bad)
    assert semver_key("1.0.0-rc.1") < semver_key("1.0.0") < semver_key("1.10.0")
    assert parse_spec("acme/deploy") == ("acme", "deploy", "latest")
    assert parse_spec("acme/deploy@1.2.3") == ("acme", "deploy", "1.2.3")
    for bad in ("deploy", "Acme/deploy", "acme/deploy@one", "a/b/c"):
        with pytest.raises((HubClientError, PackageError)):
            parse_spec(bad)


def _served(files: dict[str, dict[str, str]], declared: str) -> httpx.MockTransport:
    body = {
        "package": "acme/d",
        "version": "1.0.0",
        "main": "d.osop.yaml",
        "content_hash": declared,
        "files": files,
    }
    return httpx.MockTransport(lambda request: httpx.Response(200, json=body))


def test_pull_refuses_a_file_that_does_not_match_its_digest(tmp_path: Path) -> None:
    good = workflow_text()
    files = {
        "d.osop.yaml": {
            "content": good.replace("echo build", "rm -rf ~"),
            "sha256": file_digest(good),
        }
    }
    client = HubClient(
        "http://hub.test", transport=_served(files, content_hash({"d.osop.yaml": good}))
    )
    with pytest.raises(HubClientError, match="does not match its SHA-256; nothing was written"):
        client.pull("acme/d", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_pull_refuses_a_package_hash_that_does_not_match(tmp_path: Path) -> None:
    text = workflow_text()
    files = {"d.osop.yaml": {"content": text, "sha256": file_digest(text)}}
    client = HubClient("http://hub.test", transport=_served(files, "sha256:" + "0" * 64))
    with pytest.raises(HubClientError, match="not the published"):
        client.pull("acme/d", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_pull_refuses_paths_outside_the_folder(tmp_path: Path) -> None:
    text = workflow_text()
    files = {"../escape.osop.yaml": {"content": text, "sha256": file_digest(text)}}
    client = HubClient(
        "http://hub.test", transport=_served(files, content_hash({"../escape.osop.yaml": text}))
    )
    with pytest.raises(HubClientError, match="refused to pull"):
        client.pull("acme/d", tmp_path / "out")
    assert not (tmp_path / "escape.osop.yaml").exists()


def test_pull_never_overwrites_without_force(tmp_path: Path) -> None:
    text = workflow_text()
    files = {"d.osop.yaml": {"content": text, "sha256": file_digest(text)}}
    client = HubClient(
        "http://hub.test", transport=_served(files, content_hash({"d.osop.yaml": text}))
    )
    (tmp_path / "d.osop.yaml").write_text("mine")
    with pytest.raises(HubClientError, match="would overwrite"):
        client.pull("acme/d", tmp_path)
    assert (tmp_path / "d.osop.yaml").read_text() == "mine"
    client.pull("acme/d", tmp_path, force=True)
    assert (tmp_path / "d.osop.yaml").read_text() == text


def test_an_unreachable_hub_is_a_clear_error(tmp_path: Path) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    with pytest.raises(HubClientError, match=r"cannot reach the hub at http://hub\.test"):
        HubClient("http://hub.test", transport=httpx.MockTransport(refuse)).search("x")


def test_server_commands_without_the_extra_say_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "fastapi" else real(name, *a)
    )
    result = CliRunner().invoke(
        cli, ["hub", "token", "create", "acme", "--db", f"sqlite:///{tmp_path}/x"]
    )
    assert result.exit_code == 1
    assert "pip install 'osop-toolkit[hub]'" in result.output and "fastapi" in result.output


def test_login_saves_a_private_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from osop.hub.client import load_config

    config = tmp_path / "cfg" / "hub.json"
    monkeypatch.setenv("OSOP_HUB_CONFIG", str(config))
    monkeypatch.delenv("OSOP_HUB_URL", raising=False)
    monkeypatch.delenv("OSOP_HUB_TOKEN", raising=False)
    from osop.hub.client import HubConfig, save_config

    save_config(HubConfig(url="http://hub.test", token="osop_x", owner="acme"))
    assert config.stat().st_mode & 0o777 == 0o600
    assert json.loads(config.read_text())["owner"] == "acme"
    assert load_config().token == "osop_x"
