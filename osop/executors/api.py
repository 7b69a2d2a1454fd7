"""The ``api`` executor: one HTTP request, judged by its status, mapped to outputs.

Runtime fields: ``url`` (or ``endpoint``; relative to ``base_url`` when given),
``method`` (default GET), ``headers``, ``params``/``query``, ``json``/``body``
(a mapping or list is sent as JSON, a string as is), ``timeout`` (seconds or
duration, default 30 s), ``expected_status`` (``200``, ``[200, 404]``,
``"2xx"``; default ``2xx``), ``auth`` (``{type: bearer, token}`` or
``{type: basic, username, password}``), ``response_mapping``
(``{name: "$.data.id"}``, JSONPath over the response body),
``max_body_kb`` (default 1024).

Outputs: ``status_code``, ``body`` (parsed JSON, else text), and every mapped
name.  Failures: ``HTTP_<status>`` (status not expected; outputs still
carry status and body), ``TIMEOUT``, ``CONNECTION_REFUSED``,
``CONNECTION_ERROR``, ``INVALID_URL``, ``HTTP_ERROR``, ``RESPONSE_MAPPING``.

The HTTP transport comes from ``ctx.services["http_transport"]`` when set
(tests use ``httpx.MockTransport``), so no test needs a network.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

import httpx
import jsonpath

from osop.executors.base import NodeContext, NodeFailure, NodeResult
from osop.format.durations import parse_duration
from osop.security import Redactor
from osop.telemetry.context import current_traceparent

__all__ = ["ApiExecutor", "status_matches"]

DEFAULT_TIMEOUT: Final = 30.0
DEFAULT_MAX_BODY_KB: Final = 1024


def status_matches(status: int, expected: Any) -> bool:
    """``expected`` is an int, ``"2xx"``-style pattern, or a list of those (default 2xx)."""
    if expected is None:
        expected = ["2xx"]
    if not isinstance(expected, list):
        expected = [expected]
    for item in expected:
        text = str(item).strip().lower()
        if text.endswith("xx") and len(text) == 3 and text[0].isdigit():
            if status // 100 == int(text[0]):
                return True
        elif text.isdigit() and int(text) == status:
            return True
    return False


def _refused(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, ConnectionRefusedError) or "refused" in str(seen).lower():
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _auth(spec: Any) -> tuple[dict[str, str], httpx.Auth | None]:
    if not isinstance(spec, Mapping):
        return {}, None
    kind = str(spec.get("type", "bearer")).lower()
    if kind == "basic":
        return {}, httpx.BasicAuth(str(spec.get("username", "")), str(spec.get("password", "")))
    if kind == "bearer" and spec.get("token") is not None:
        return {"Authorization": f"Bearer {spec['token']}"}, None
    if kind in ("header", "api_key") and spec.get("value") is not None:
        return {str(spec.get("name", "X-API-Key")): str(spec["value"])}, None
    raise NodeFailure(
        "BAD_RUNTIME", f"unsupported auth type {kind!r} (bearer, basic, header)", retryable=False
    )


def _body(response: httpx.Response, limit: int) -> tuple[Any, bool]:
    content = response.content
    if len(content) > limit:
        return content[-limit:].decode("utf-8", errors="replace"), True
    text = content.decode(response.encoding or "utf-8", errors="replace")
    content_type = response.headers.get("content-type", "")
    if "json" in content_type or text.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(text), False
        except ValueError:
            pass
    return text, False


def _mapped(mapping: Any, body: Any) -> dict[str, Any]:
    if not isinstance(mapping, Mapping):
        return {}
    out: dict[str, Any] = {}
    for name, path in mapping.items():
        try:
            matches = jsonpath.findall(str(path), body)
        except jsonpath.JSONPathError as exc:
            raise NodeFailure(
                "RESPONSE_MAPPING",
                f"output {name!r}: bad JSONPath {path!r}: {exc}",
                retryable=False,
            ) from exc
        if not matches:
            raise NodeFailure(
                "RESPONSE_MAPPING",
                f"output {name!r}: {path!r} matched nothing in the response body",
                retryable=False,
            )
        out[str(name)] = matches[0] if len(matches) == 1 else list(matches)
    return out


class ApiExecutor:
    node_type = "api"

    async def execute(self, ctx: NodeContext) -> NodeResult:
        rt = ctx.runtime
        url = rt.get("url") or rt.get("endpoint")
        if not url:
            raise NodeFailure(
                "NO_URL", f"api node {ctx.node.id!r} has no runtime.url", retryable=False
            )
        redactor = Redactor(ctx.secret_values)
        method = str(rt.get("method") or "GET").upper()
        headers = {str(k): str(v) for k, v in (rt.get("headers") or {}).items()}
        auth_headers, auth = _auth(rt.get("auth"))
        headers.update(auth_headers)
        traceparent = current_traceparent()
        if traceparent and not any(k.lower() == "traceparent" for k in headers):
            headers["traceparent"] = traceparent  # W3C trace context of this node's span
        params = rt.get("params", rt.get("query"))
        payload = rt.get("json", rt.get("body"))
        timeout = parse_duration(rt.get("timeout")) or DEFAULT_TIMEOUT
        max_kb = rt.get("max_body_kb", DEFAULT_MAX_BODY_KB)
        limit = int(max_kb * 1024) if isinstance(max_kb, int | float) and max_kb > 0 else 1 << 20
        request: dict[str, Any] = {"headers": headers}
        if isinstance(params, Mapping):
            request["params"] = {str(k): v for k, v in params.items()}
        if isinstance(payload, Mapping | list):
            request["json"] = payload
        elif payload is not None:
            request["content"] = str(payload).encode()
        if auth is not None:
            request["auth"] = auth
        shown = redactor.text(f"{method} {url}")
        base_url = str(rt.get("base_url") or "")
        try:
            scheme = httpx.URL(base_url or str(url)).scheme
        except (httpx.InvalidURL, ValueError, TypeError) as exc:
            raise NodeFailure("INVALID_URL", f"{shown}: {exc}", retryable=False) from exc
        if scheme not in ("http", "https"):
            raise NodeFailure(
                "INVALID_URL",
                f"{shown}: not an absolute http(s) URL (unresolved reference? missing base_url?)",
                retryable=False,
            )
        client = httpx.AsyncClient(
            transport=ctx.services.get("http_transport"),
            timeout=timeout,
            follow_redirects=True,
            base_url=base_url,
        )
        try:
            async with client:
                response = await client.request(method, str(url), **request)
                await response.aread()
        except httpx.TimeoutException as exc:
            raise NodeFailure("TIMEOUT", f"{shown} timed out after {timeout:g}s") from exc
        except httpx.ConnectError as exc:
            code = "CONNECTION_REFUSED" if _refused(exc) else "CONNECTION_ERROR"
            raise NodeFailure(code, redactor.text(f"{shown}: {exc}")) from exc
        except (httpx.InvalidURL, httpx.UnsupportedProtocol, ValueError) as exc:
            raise NodeFailure(
                "INVALID_URL", redactor.text(f"{shown}: {exc}"), retryable=False
            ) from exc
        except httpx.HTTPError as exc:
            raise NodeFailure("HTTP_ERROR", redactor.text(f"{shown}: {exc}")) from exc
        body, truncated = _body(response, limit)
        outputs: dict[str, Any] = {"status_code": response.status_code, "body": body}
        if truncated:
            outputs["body_truncated"] = True
        if not status_matches(response.status_code, rt.get("expected_status")):
            preview = body if isinstance(body, str) else json.dumps(body)[:2000]
            raise NodeFailure(
                f"HTTP_{response.status_code}",
                f"{shown} returned {response.status_code} {response.reason_phrase}".rstrip(),
                details=redactor({"status_code": response.status_code, "body": preview[:2000]}),
                outputs=outputs,
            )
        outputs.update(_mapped(rt.get("response_mapping"), body))
        return NodeResult(outputs=outputs, log=[f"{shown} -> {response.status_code}"])
