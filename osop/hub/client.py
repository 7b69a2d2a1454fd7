"""The hub client: what ``osop hub login|publish|search|show|pull|yank|record`` and the
MCP tools call.  Plain httpx (a core dependency), so using a hub needs no extra.

The client trusts nothing it downloads: ``pull`` checks every file's SHA-256 and
the package's content hash, and every path, before it writes anything; the files
are written atomically and an existing file is never overwritten unless asked.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from osop.errors import OsopError
from osop.hub.package import (
    PackageError,
    check_name,
    check_package_path,
    collect_package,
    content_hash,
    file_digest,
    parse_semver,
)

__all__ = [
    "HubClient",
    "HubClientError",
    "HubConfig",
    "PullResult",
    "config_path",
    "load_config",
    "parse_spec",
    "save_config",
]

DEFAULT_URL = "http://127.0.0.1:8765"
#: A pulled package is at most this large (the server's own limit is smaller).
MAX_DOWNLOAD_BYTES = 20_000_000


class HubClientError(OsopError):
    """The hub refused a request or could not be reached (the message says which)."""


@dataclass(slots=True)
class HubConfig:
    url: str = DEFAULT_URL
    token: str | None = None
    owner: str | None = None


def config_path() -> Path:
    """``$OSOP_HUB_CONFIG``, else ``$XDG_CONFIG_HOME/osop/hub.json`` (``~/.config/...``)."""
    explicit = os.environ.get("OSOP_HUB_CONFIG")
    if explicit:
        return Path(explicit)
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "osop" / "hub.json"


def load_config() -> HubConfig:
    path = config_path()
    config = HubConfig()
    if path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise HubClientError(f"{path}: not a readable hub config ({exc})") from None
        if isinstance(data, dict):
            config = HubConfig(
                url=str(data.get("url") or DEFAULT_URL),
                token=data.get("token") if isinstance(data.get("token"), str) else None,
                owner=data.get("owner") if isinstance(data.get("owner"), str) else None,
            )
    config.url = os.environ.get("OSOP_HUB_URL") or config.url
    config.token = os.environ.get("OSOP_HUB_TOKEN") or config.token
    return config


def save_config(config: HubConfig) -> Path:
    """Write the config readable by its owner only (it holds a token)."""
    from osop.record.writer import atomic_write_text

    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # Created 0600 first: the atomic writer keeps an existing file's mode.
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    os.chmod(path, 0o600)
    body = {"url": config.url, "token": config.token, "owner": config.owner}
    atomic_write_text(path, json.dumps(body, indent=2) + "\n")
    return path


_SPEC = re.compile(r"^(?P<owner>[^/@\s]+)/(?P<name>[^/@\s]+)(?:@(?P<version>[^@\s]+))?$")


def parse_spec(spec: str, default_version: str | None = "latest") -> tuple[str, str, str | None]:
    """``owner/name[@version]`` → its parts (the version defaults to ``latest``)."""
    match = _SPEC.match(spec.strip())
    if match is None:
        raise HubClientError(f"{spec!r} is not a package name: write OWNER/NAME[@VERSION]")
    owner = check_name("owner", match["owner"])
    name = check_name("package", match["name"])
    version = match["version"] or default_version
    if version not in (None, "latest"):
        parse_semver(version)
    return owner, name, version


@dataclass(slots=True)
class PullResult:
    package: str
    version: str
    main: Path
    files: list[Path]
    content_hash: str


class HubClient:
    """One hub, one optional token; ``transport`` lets tests call an app in-process."""

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.token = token
        headers = {"User-Agent": "osop-hub-client"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(
            base_url=self.url, headers=headers, transport=transport, timeout=timeout
        )

    @classmethod
    def from_config(cls, url: str | None = None, token: str | None = None) -> HubClient:
        config = load_config()
        return cls(url or config.url, token or config.token)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> HubClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing ---------------------------------------------------------------------

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, f"/api/v1{path}", **kwargs)
        except httpx.HTTPError as exc:
            raise HubClientError(f"cannot reach the hub at {self.url}: {exc}") from None
        if response.status_code >= 400:
            raise HubClientError(_error_text(response))
        try:
            return response.json()
        except ValueError:
            raise HubClientError(
                f"the hub at {self.url} answered with something not JSON"
            ) from None

    def _need_token(self) -> None:
        if not self.token:
            raise HubClientError(
                "this needs a token: run `osop hub login --token TOKEN` (the hub's operator "
                "creates one with `osop hub token create OWNER`)"
            )

    # -- calls ------------------------------------------------------------------------

    def whoami(self) -> str:
        self._need_token()
        return str(self._request("GET", "/whoami")["owner"])

    def publish(self, spec: str, version: str, source: str | Path) -> dict[str, Any]:
        """Publish a ``.osop`` or ``.sop`` (with its referenced workflows) as ``spec@version``."""
        self._need_token()
        owner, name, _ = parse_spec(spec, default_version=None)
        parse_semver(version)
        package = collect_package(source)
        body = {"main": package.main, "files": package.files, "content_hash": package.content_hash}
        result: dict[str, Any] = self._request(
            "PUT", f"/packages/{owner}/{name}/{version}", json=body
        )
        result["missing_refs"] = package.missing
        return result

    def search(
        self,
        query: str = "",
        *,
        node_type: str | None = None,
        tag: str | None = None,
        level: int | None = None,
        owner: str | None = None,
        limit: int = 20,
    ) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"q": query, "limit": limit}
        for key, value in (
            ("node_type", node_type),
            ("tag", tag),
            ("level", level),
            ("owner", owner),
        ):
            if value is not None:
                params[key] = value
        results: list[dict[str, Any]] = self._request("GET", "/search", params=params)["results"]
        return results

    def package(self, spec: str) -> dict[str, Any]:
        owner, name, _ = parse_spec(spec)
        result: dict[str, Any] = self._request("GET", f"/packages/{owner}/{name}")
        return result

    def version(self, spec: str) -> dict[str, Any]:
        owner, name, version = parse_spec(spec)
        result: dict[str, Any] = self._request("GET", f"/packages/{owner}/{name}/{version}")
        return result

    def yank(self, spec: str, reason: str = "", *, undo: bool = False) -> dict[str, Any]:
        self._need_token()
        owner, name, version = parse_spec(spec, default_version=None)
        if version is None:
            raise HubClientError("say which version to yank: OWNER/NAME@VERSION")
        result: dict[str, Any] = self._request(
            "POST",
            f"/packages/{owner}/{name}/{version}/yank",
            json={"reason": reason, "undo": undo},
        )
        return result

    def upload_record(
        self, spec: str, record: str | Path, workflow: str | None = None
    ) -> dict[str, Any]:
        """Upload one ``.osoplog`` as evidence for a version; the version's new stats.

        ``workflow``: which of the version's workflows the record is a run of, when the
        record names another id (an imported agent session).
        """
        self._need_token()
        owner, name, version = parse_spec(spec)
        text = Path(record).read_text(encoding="utf-8")
        body = {"record": text, "workflow": workflow}
        result: dict[str, Any] = self._request(
            "POST", f"/packages/{owner}/{name}/{version}/records", json=body
        )
        return result

    def stats(self, spec: str) -> dict[str, Any]:
        owner, name, version = parse_spec(spec)
        result: dict[str, Any] = self._request("GET", f"/packages/{owner}/{name}/{version}/stats")
        return result

    def pull(self, spec: str, dest: str | Path, *, force: bool = False) -> PullResult:
        """Download a version into ``dest`` after checking every hash and path."""
        data = self.version(spec)
        files = data.get("files")
        if not isinstance(files, dict) or not files:
            raise HubClientError(f"{spec}: the hub sent no files")
        texts: dict[str, str] = {}
        total = 0
        for path, item in files.items():
            try:
                check_package_path(path)
            except PackageError as exc:
                raise HubClientError(f"{spec}: refused to pull: {exc}") from None
            body = item.get("content") if isinstance(item, dict) else None
            if not isinstance(body, str):
                raise HubClientError(f"{spec}: {path} has no content")
            if file_digest(body) != item.get("sha256"):
                raise HubClientError(
                    f"{spec}: {path} does not match its SHA-256; nothing was written"
                )
            total += len(body.encode("utf-8"))
            texts[path] = body
        if total > MAX_DOWNLOAD_BYTES:
            raise HubClientError(f"{spec}: {total} bytes is over the download limit")
        actual = content_hash(texts)
        if actual != data.get("content_hash"):
            raise HubClientError(
                f"{spec}: the files hash to {actual}, not the published "
                f"{data.get('content_hash')}; nothing was written"
            )
        main = data.get("main")
        if main not in texts:
            raise HubClientError(f"{spec}: the main document {main!r} is not among the files")
        root = Path(dest)
        targets = {path: root / path for path in texts}
        clashes = [str(p) for p in targets.values() if p.exists()]
        if clashes and not force:
            raise HubClientError(
                f"would overwrite {', '.join(clashes)} (use --force); nothing was written"
            )
        from osop.record.writer import atomic_write_text

        for path, target in targets.items():
            # The package's folders, under the destination the caller named.
            atomic_write_text(target, texts[path], create_parents=True)
        return PullResult(
            package=str(data["package"]),
            version=str(data["version"]),
            main=targets[str(main)],
            files=list(targets.values()),
            content_hash=actual,
        )


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        body = None
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, list):  # FastAPI's request-validation errors
        detail = "; ".join(
            f"{'/'.join(str(x) for x in d.get('loc', []))}: {d.get('msg')}"
            for d in detail
            if isinstance(d, dict)
        )
    message = f"the hub refused ({response.status_code}): {detail or response.reason_phrase}"
    issues = body.get("issues") if isinstance(body, dict) else None
    if isinstance(issues, list):
        for issue in issues[:20]:
            if isinstance(issue, dict):
                where = issue.get("file", "")
                if issue.get("line"):
                    where += f":{issue['line']}:{issue.get('column', 0)}"
                message += (
                    f"\n  {where}: {issue.get('severity')} [{issue.get('rule')}] "
                    f"{issue.get('message')}"
                )
    return message
