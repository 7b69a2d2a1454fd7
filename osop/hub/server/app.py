"""The hub's HTTP API (FastAPI; the OpenAPI document is served at ``/openapi.json``).

A thin layer over :class:`osop.hub.store.HubStore`: it authenticates, applies the
limits and turns :class:`~osop.hub.store.HubError` into a JSON error with the
status the store chose.  The HTML pages live in :mod:`osop.hub.server.pages`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from osop import __version__
from osop.hub.server.limits import BodyLimit, Limits, RateLimiter
from osop.hub.store import HubError, HubStore, SearchFilters

__all__ = ["create_app"]

API = "/api/v1"


class PublishBody(BaseModel):
    """A package version: the main document's path, every file's text, and their hash."""

    main: str = Field(description="package path of the .osop or .sop")
    files: dict[str, str] = Field(description="package path → file text (UTF-8)")
    content_hash: str = Field(description="sha256: over sorted path and file digest lines")


class YankBody(BaseModel):
    reason: str = ""
    undo: bool = False


class RecordBody(BaseModel):
    record: str = Field(description="an .osoplog document (YAML or JSON text)")
    workflow: str | None = Field(
        default=None,
        description="the version's workflow this record is a run of, when the record names "
        "another id (an imported agent session)",
    )


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _limit(limiter: RateLimiter, key: str) -> None:
    wait = limiter.allow(key)
    if wait is not None:
        error = HubError(429, f"too many requests; try again in {int(wait) + 1} s")
        error.retry_after = int(wait) + 1  # type: ignore[attr-defined]
        raise error


def read_limit(request: Request) -> None:
    _limit(request.app.state.reads, _client(request))


def publisher(request: Request, authorization: Annotated[str | None, Header()] = None) -> str:
    """The owner the bearer token speaks for (401 without a valid one)."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise HubError(401, "this needs a token: Authorization: Bearer <token>")
    owner = request.app.state.store.owner_of(authorization[7:].strip())
    if owner is None:
        raise HubError(401, "unknown or revoked token")
    _limit(request.app.state.writes, f"{owner}@{_client(request)}")
    return str(owner)


def same_owner(owner: str, token_owner: str) -> None:
    if owner != token_owner:
        raise HubError(
            403,
            f"your token publishes under {token_owner!r}, not {owner!r}: nobody writes "
            "into another owner's namespace; nothing was stored",
        )


Owner = Annotated[str, Depends(publisher)]
Reader = Depends(read_limit)


def create_app(store: HubStore, limits: Limits | None = None) -> Any:
    """The ASGI application (wrapped in the body-size limit)."""
    limits = limits or Limits()
    app = FastAPI(
        title="OSOP Hub",
        version=__version__,
        description="A registry of validated OSOP processes (.osop and .sop packages).",
        docs_url=None,  # the Swagger page loads scripts from a CDN; the document is enough
        redoc_url=None,
    )
    app.state.store = store
    app.state.writes = RateLimiter(limits.writes_per_minute)
    app.state.reads = RateLimiter(limits.reads_per_minute)

    @app.exception_handler(HubError)
    async def _hub_error(_request: Request, exc: HubError) -> JSONResponse:
        body: dict[str, Any] = {"detail": str(exc)}
        if exc.issues:
            body["issues"] = exc.issues
        headers = {"Retry-After": str(exc.retry_after)} if hasattr(exc, "retry_after") else None
        return JSONResponse(body, status_code=exc.status, headers=headers)

    @app.get(f"{API}/whoami", tags=["accounts"])
    def whoami(owner: Owner) -> dict[str, str]:
        """The owner your token publishes as (``osop hub login`` checks a token with it)."""
        return {"owner": owner}

    @app.get(f"{API}/search", tags=["search"], dependencies=[Reader])
    def search(
        q: str = "",
        node_type: str | None = None,
        tag: str | None = None,
        level: Annotated[int | None, Query(ge=0, le=3)] = None,
        owner: str | None = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
    ) -> dict[str, Any]:
        """Full-text search over name, description, tags and node purposes, ranked with evidence."""
        filters = SearchFilters(node_type=node_type, tag=tag, min_level=level, owner=owner)
        return {"query": q, "results": store.search(q, filters, limit)}

    @app.get(f"{API}/packages/{{owner}}/{{name}}", tags=["packages"], dependencies=[Reader])
    def package(owner: str, name: str) -> dict[str, Any]:
        """A package and all its versions (newest first; yanked ones flagged)."""
        return store.package(owner, name)

    @app.get(
        f"{API}/packages/{{owner}}/{{name}}/{{version}}", tags=["packages"], dependencies=[Reader]
    )
    def version(owner: str, name: str, version: str) -> dict[str, Any]:
        """One version with its files (``latest``: the newest version that is not yanked)."""
        return store.version(owner, name, version)

    @app.put(f"{API}/packages/{{owner}}/{{name}}/{{version}}", tags=["packages"], status_code=201)
    def publish(
        owner: str, name: str, version: str, body: PublishBody, token_owner: Owner
    ) -> dict[str, Any]:
        """Publish a version (validated; immutable once published)."""
        same_owner(owner, token_owner)
        result = store.publish(owner, name, version, body.main, body.files, body.content_hash)
        return result.to_dict()

    @app.post(f"{API}/packages/{{owner}}/{{name}}/{{version}}/yank", tags=["packages"])
    def yank(
        owner: str, name: str, version: str, body: YankBody, token_owner: Owner
    ) -> dict[str, Any]:
        """Yank a version (it stays readable, but `latest` and search skip it), or undo."""
        same_owner(owner, token_owner)
        store.yank(owner, name, version, body.reason, undo=body.undo)
        return store.version(owner, name, version, files=False)

    @app.post(
        f"{API}/packages/{{owner}}/{{name}}/{{version}}/records", tags=["evidence"], status_code=201
    )
    def upload_record(
        owner: str, name: str, version: str, body: RecordBody, uploader: Owner
    ) -> dict[str, Any]:
        """Upload one execution record of this version (redacted before it is stored)."""
        return store.add_record(owner, name, version, body.record, uploader, body.workflow)

    @app.get(
        f"{API}/packages/{{owner}}/{{name}}/{{version}}/stats",
        tags=["evidence"],
        dependencies=[Reader],
    )
    def stats(owner: str, name: str, version: str) -> dict[str, Any]:
        """WorkflowStats of the uploaded records: runs, success rate, p50/p95, cost."""
        return store.stats(owner, name, version)

    from osop.hub.server.pages import add_pages

    add_pages(app, store, Reader)
    return BodyLimit(app, limits.max_body_bytes)
