"""The studio's ASGI app: the web page, a small JSON API and the co-editing socket.

Security, in order of the checks: the server listens on 127.0.0.1 unless told
otherwise; a request whose Host is not the address it was started on is refused
(a page elsewhere cannot rebind a name to us); every API call and the socket
carry the per-launch token (constant-time compare); every path is resolved
inside the opened folder by :class:`~osop.studio.workspace.Workspace`; every
response carries a Content-Security-Policy that lets the page load only its own
script and talk only to this server.  The page renders every string as text
(React escapes it), never as HTML.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request, WebSocket
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from osop import __version__
from osop.engine.store import RunStore, default_store_root
from osop.errors import OsopError, RunStoreError
from osop.studio import STATIC_DIR
from osop.studio.check import check_text
from osop.studio.collab import CollabRooms
from osop.studio.edits import EditError, apply_edits
from osop.studio.runs import list_runs, run_record, simulate
from osop.studio.workspace import PathRefused, Workspace, text_sha

__all__ = ["StudioConfig", "create_app"]

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
#: The largest request body the API reads (a document is at most 1 MB by default).
MAX_BODY = 4 * 1024 * 1024
_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
_WILDCARD = {"0.0.0.0", "::", "[::]"}


@dataclass
class StudioConfig:
    folder: Path
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    #: The host the server listens on (its names are the only Host headers taken).
    host: str = "127.0.0.1"
    store_dir: Path | None = None


class _ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _host_name(header: str) -> str:
    if header.startswith("["):
        return header[: header.find("]") + 1]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def create_app(config: StudioConfig) -> FastAPI:
    workspace = Workspace.open(config.folder)
    store = RunStore(config.store_dir or default_store_root(workspace.root))
    rooms = CollabRooms(workspace)
    # Listening on every address (0.0.0.0, ::) means being reached by any name:
    # then the token alone guards the studio, as the docs say.
    any_host = config.host in _WILDCARD
    allowed_hosts = {config.host, *(_LOOPBACK if config.host in _LOOPBACK else ())}

    def host_ok(header: str) -> bool:
        return any_host or _host_name(header) in allowed_hosts

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with rooms:
            yield

    app = FastAPI(
        title="OSOP Studio", version=__version__, lifespan=lifespan,
        docs_url=None, redoc_url=None, openapi_url=None,
    )  # fmt: skip
    app.state.rooms = rooms
    app.state.workspace = workspace

    def token_ok(given: str | None) -> bool:
        return given is not None and secrets.compare_digest(given.encode(), config.token.encode())

    @app.middleware("http")
    async def guard(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if not host_ok(request.headers.get("host", "")):
            return JSONResponse({"error": "unknown host"}, status_code=421, headers=_HEADERS)
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            return JSONResponse({"error": "request too large"}, status_code=413, headers=_HEADERS)
        try:
            response = await call_next(request)
        except _ApiError as exc:
            response = JSONResponse({"error": exc.message}, status_code=exc.status)
        for key, value in _HEADERS.items():
            response.headers.setdefault(key, value)
        return response

    @app.exception_handler(_ApiError)
    async def api_error(request: Request, exc: _ApiError) -> Response:
        return JSONResponse({"error": exc.message}, status_code=exc.status, headers=_HEADERS)

    @app.exception_handler(PathRefused)
    async def refused(request: Request, exc: PathRefused) -> Response:
        return JSONResponse({"error": str(exc)}, status_code=403, headers=_HEADERS)

    @app.exception_handler(OsopError)
    async def osop_error(request: Request, exc: OsopError) -> Response:
        return JSONResponse({"error": str(exc)}, status_code=422, headers=_HEADERS)

    def authorised(request: Request) -> None:
        if not token_ok(request.headers.get("x-studio-token")):
            raise _ApiError(401, "wrong or missing token: open the URL `osop studio` printed")

    async def body(request: Request) -> dict[str, Any]:
        raw = await request.body()
        if len(raw) > MAX_BODY:
            raise _ApiError(413, "request too large")
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            raise _ApiError(400, "the request body is not JSON") from None
        if not isinstance(data, dict):
            raise _ApiError(400, "the request body must be a JSON object")
        return data

    def field_str(data: dict[str, Any], key: str) -> str:
        value = data.get(key)
        if not isinstance(value, str):
            raise _ApiError(400, f"{key!r} must be a string")
        return value

    api = [Depends(authorised)]

    @app.get("/", include_in_schema=False)
    async def index(request: Request) -> Response:
        # The page itself holds no data; the token in the URL is checked so a
        # wrong link says so at once instead of failing on every call.
        if not token_ok(request.query_params.get("token")):
            return Response(
                "OSOP Studio: wrong or missing token. Open the URL `osop studio` printed.",
                status_code=401, media_type="text/plain", headers=_HEADERS,
            )  # fmt: skip
        return FileResponse(STATIC_DIR / "index.html", headers=_HEADERS)

    @app.get("/api/session", dependencies=api)
    async def session() -> dict[str, Any]:
        from osop.templates import list_templates

        return {
            "version": __version__,
            "folder": workspace.root.name,
            "files": workspace.list_files(),
            "templates": [{"name": t.name, "summary": t.summary} for t in list_templates()],
            "views": ["graph", "yaml", "story", "roles", "agent", "ledger"],
        }

    @app.get("/api/schema", dependencies=api)
    async def schema(kind: str = "osop") -> Response:
        """The published JSON Schema of a workflow (``osop``) or a collection (``sop``)."""
        from importlib import resources

        if kind not in ("osop", "sop"):
            raise _ApiError(400, "kind must be osop or sop")
        text = resources.files("osop.format.schemas").joinpath(f"{kind}.schema.json").read_text()
        return Response(text, media_type="application/json")

    @app.get("/api/file", dependencies=api)
    async def read_file(path: str) -> dict[str, Any]:
        shared = rooms.text_of(path)
        text = shared if shared is not None else workspace.read(path)
        return {"path": path, "text": text, "sha": text_sha(text)}

    @app.put("/api/file", dependencies=api)
    async def save_file(request: Request) -> dict[str, Any]:
        data = await body(request)
        path, text = field_str(data, "path"), field_str(data, "text")
        workspace.resolve(path)
        saved = rooms.flush(path)
        if saved is None:  # nobody shares the file: write what this page holds
            workspace.write(path, text)
        elif not saved:
            raise _ApiError(422, "not saved: the text is not YAML yet (see the YAML view)")
        on_disk = workspace.read(path)
        return {"path": path, "sha": text_sha(on_disk), "report": check_text(on_disk, path)}

    @app.post("/api/new", dependencies=api)
    async def new_file(request: Request) -> dict[str, Any]:
        from osop.templates import scaffold

        data = await body(request)
        path = field_str(data, "path")
        template = field_str(data, "template")
        workflow_id = data.get("id")
        if workflow_id is not None and not isinstance(workflow_id, str):
            raise _ApiError(400, "'id' must be a string")
        text = scaffold(template, workflow_id or None)
        workspace.create(path, text)
        return {"path": path, "text": text, "files": workspace.list_files()}

    @app.post("/api/check", dependencies=api)
    async def check(request: Request) -> dict[str, Any]:
        data = await body(request)
        path, text = field_str(data, "path"), field_str(data, "text")
        target = workspace.resolve(path, must_exist=False)
        return check_text(text, path, base_dir=target.parent)

    @app.post("/api/edit", dependencies=api)
    async def edit(request: Request) -> dict[str, Any]:
        data = await body(request)
        path, text = field_str(data, "path"), field_str(data, "text")
        workspace.resolve(path, must_exist=False)
        ops = data.get("ops")
        try:
            new = apply_edits(text, path, ops if isinstance(ops, list) else [])
        except EditError as exc:
            raise _ApiError(422, str(exc)) from None
        return {"text": new}

    @app.post("/api/simulate", dependencies=api)
    async def run_simulated(request: Request) -> dict[str, Any]:
        data = await body(request)
        path, text = field_str(data, "path"), field_str(data, "text")
        target = workspace.resolve(path, must_exist=False)
        run_id = await simulate(text, path, store, target.parent)  # errors: 422 below
        return {"run_id": run_id}

    @app.get("/api/runs", dependencies=api)
    async def runs(workflow_id: str | None = None) -> dict[str, Any]:
        return {"runs": list_runs(store, workflow_id)}

    @app.get("/api/runs/{run_id}", dependencies=api)
    async def run(run_id: str) -> dict[str, Any]:
        try:
            return {"record": run_record(store, run_id)}
        except RunStoreError as exc:
            raise _ApiError(404, str(exc)) from None

    @app.websocket("/ws/{path:path}")
    async def shared(websocket: WebSocket, path: str) -> None:
        if not host_ok(websocket.headers.get("host", "")):
            await websocket.close(code=4421)
            return
        if not token_ok(websocket.query_params.get("token")):
            await websocket.close(code=4401)
            return
        try:
            workspace.resolve(path)
        except PathRefused:
            await websocket.close(code=4403)
            return
        await websocket.accept()
        await rooms.serve(websocket, path)

    if (STATIC_DIR / "assets").is_dir():
        app.mount("/assets", StaticFiles(directory=STATIC_DIR / "assets"), name="assets")
    return app
