"""Which provider answers a node, and with which credentials.

The provider is ``OSOP_LLM_PROVIDER`` (to rehearse a whole workflow with
``offline``), else ``runtime.provider``, else inferred from the model name
(``claude-*`` → anthropic; ``gpt-*``, ``o1``/``o3``/``o4*``, ``chatgpt-*`` →
openai; ``gemini-*`` → google), else ``openai`` when ``runtime.base_url`` names
an OpenAI-compatible server.  Otherwise there is none: a live run fails with
``NO_PROVIDER``.  It never falls back to the offline provider — that one
answers only when named, or in simulated and dry runs.

Credentials: ``runtime.api_key`` (write ``${secrets.X}``), else the vendor's
standard variable from the run's environment, then the process's.  Missing:
``NO_CREDENTIALS``, saying what to set.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from osop.llm.base import Provider
from osop.llm.errors import NoCredentialsError, NoProviderError

__all__ = ["PROVIDERS", "ProviderChoice", "choose_provider", "infer_provider", "make_provider"]

#: Provider name → the environment variables that may hold its key, in order.
PROVIDERS: Final[dict[str, tuple[str, ...]]] = {
    "anthropic": ("ANTHROPIC_API_KEY",),
    "openai": ("OPENAI_API_KEY",),
    "google": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
    "offline": (),
}
_ALIASES: Final = {
    "openai-compatible": "openai",
    "openai_compatible": "openai",
    "claude": "anthropic",
    "gemini": "google",
    "google-genai": "google",
    "vertex": "google",
}
_BASE_URL_VARS: Final = {
    "anthropic": "ANTHROPIC_BASE_URL",
    "openai": "OPENAI_BASE_URL",
    "google": "GOOGLE_GEMINI_BASE_URL",
}
_BY_MODEL: Final = (
    (re.compile(r"^(anthropic/)?claude"), "anthropic"),
    (re.compile(r"^(openai/)?(gpt-|chatgpt-|o[1-9](-|$)|text-|davinci|codex)"), "openai"),
    (re.compile(r"^(google/|models/)?(gemini|gemma)"), "google"),
)


@dataclass(frozen=True, slots=True)
class ProviderChoice:
    name: str
    #: How it was chosen: ``environment``, ``runtime``, ``model``, ``base_url``, ``mode``.
    reason: str


def infer_provider(model: str) -> str | None:
    name = model.strip().lower()
    for pattern, provider in _BY_MODEL:
        if pattern.match(name):
            return provider
    return None


def _lookup(name: str, env: Mapping[str, str]) -> str | None:
    return env.get(name) or os.environ.get(name) or None


def choose_provider(
    runtime: Mapping[str, Any], env: Mapping[str, str], mode: str
) -> ProviderChoice:
    """The provider name for a node (see the module doc); raises ``NO_PROVIDER``."""
    if mode in ("simulated", "dry_run"):
        return ProviderChoice("offline", "mode")
    forced = _lookup("OSOP_LLM_PROVIDER", env)
    if forced:
        return ProviderChoice(_ALIASES.get(forced.lower(), forced.lower()), "environment")
    named = runtime.get("provider")
    if isinstance(named, str) and named.strip():
        return ProviderChoice(_ALIASES.get(named.strip().lower(), named.strip().lower()), "runtime")
    model = str(runtime.get("model") or "")
    inferred = infer_provider(model) if model else None
    if inferred:
        return ProviderChoice(inferred, "model")
    if runtime.get("base_url") or runtime.get("endpoint"):
        return ProviderChoice("openai", "base_url")
    what = f"model {model!r} does not name a known vendor" if model else "no runtime.model"
    raise NoProviderError(
        f"no LLM provider for this agent node ({what}): set runtime.provider to one of "
        f"{', '.join(sorted(PROVIDERS))} (or runtime.base_url for an OpenAI-compatible "
        "server); a live run never falls back to the offline provider"
    )


def make_provider(
    name: str,
    runtime: Mapping[str, Any],
    env: Mapping[str, str],
    custom: Mapping[str, Provider] | None = None,
) -> Provider:
    """The provider called ``name`` with its credentials; raises ``NO_PROVIDER``/``NO_CREDENTIALS``."""
    if custom and name in custom:
        return custom[name]
    if name == "offline":
        from osop.llm.offline import OfflineProvider

        return OfflineProvider()
    if name not in PROVIDERS:
        raise NoProviderError(
            f"LLM provider {name!r} is not known: use one of {', '.join(sorted(PROVIDERS))} "
            "(openai also serves any OpenAI-compatible endpoint via runtime.base_url)"
        )
    base_url = str(runtime.get("base_url") or runtime.get("endpoint") or "") or None
    key = str(runtime["api_key"]) if runtime.get("api_key") else None
    for var in PROVIDERS[name]:
        key = key or _lookup(var, env)
    if not key and name == "openai" and (base_url or _lookup("OPENAI_BASE_URL", env)):
        key = "not-needed"  # local OpenAI-compatible servers take no key; the SDK wants one
    if not key:
        wanted = " or ".join(PROVIDERS[name])
        raise NoCredentialsError(
            f"no API key for the {name} provider: set {wanted} in the environment (or the "
            f"run's .env), or runtime.api_key: ${{secrets.{PROVIDERS[name][0]}}}"
        )
    base_url = base_url or _lookup(_BASE_URL_VARS[name], env)
    timeout = runtime.get("request_timeout_sec")
    seconds = float(timeout) if isinstance(timeout, int | float) and timeout > 0 else 600.0
    if name == "anthropic":
        from osop.llm.anthropic_provider import AnthropicProvider

        return AnthropicProvider(api_key=key, base_url=base_url, timeout=seconds)
    if name == "openai":
        from osop.llm.openai_provider import OpenAIProvider

        return OpenAIProvider(api_key=key, base_url=base_url, timeout=seconds)
    from osop.llm.google_provider import GoogleProvider

    return GoogleProvider(api_key=key, base_url=base_url, timeout=seconds)
