"""What the vendor-SDK providers share: lazy imports and error mapping."""

from __future__ import annotations

import importlib
import json
from types import ModuleType
from typing import Any

from osop.llm.errors import LLMError, MissingExtraError

__all__ = ["SdkProvider", "import_sdk", "map_sdk_error", "tool_result_text"]


class SdkProvider:
    """What every vendor-SDK provider is made with: a key, a base URL, a timeout."""

    name = "sdk"

    def __init__(
        self, *, api_key: str, base_url: str | None = None, timeout: float = 600.0
    ) -> None:
        self.api_key = api_key
        #: None: the SDK decides (its default, or its own ``*_BASE_URL`` variable).
        self.base_url = base_url
        self.timeout = timeout


def import_sdk(module: str, provider: str, package: str, extra: str) -> ModuleType:
    """Import a vendor SDK only when a node needs it, with an install hint when absent."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(provider, package, extra) from exc


def map_sdk_error(exc: Exception, provider: str) -> LLMError:
    """A vendor SDK's exception as an :class:`LLMError` with the codes nodes record."""
    name = type(exc).__name__
    status = getattr(exc, "status_code", None)
    code = getattr(exc, "code", None)
    if status is None and isinstance(code, int):
        status = code  # google-genai's APIError
    if isinstance(status, int):
        body = getattr(exc, "message", None) or str(exc)
        return LLMError(
            f"HTTP_{status}",
            f"{provider} answered {status}: {str(body)[:300]}",
            retryable=status in (408, 409, 429) or status >= 500,
        )
    if "Timeout" in name:
        return LLMError("TIMEOUT", f"{provider} request timed out")
    if "Connection" in name:
        text = f"{exc} {exc.__cause__ or ''}".lower()
        code = "CONNECTION_REFUSED" if "refused" in text else "CONNECTION_ERROR"
        return LLMError(code, f"{provider} request failed: {exc}")
    return LLMError("LLM_ERROR", f"{provider}: {name}: {exc}")


def tool_result_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)
