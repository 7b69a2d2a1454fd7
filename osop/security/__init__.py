"""Security: command/SQL risk classification, secret redaction, secret sources.

Names are imported on first use: ``osop validate`` classifies commands but
needs neither the SQL classifier nor the secret stores.
"""

from __future__ import annotations

# Imported here, not on first use: the function ``redact`` shares its name with its
# module, and importing ``osop.security.redact`` later would bind the module instead.
from osop.security.redact import MASK, Redactor, is_secret_key, redact

#: public name → module that defines it
_EXPORTS: dict[str, str] = {
    "LEVELS": "osop.security.rules",
    "RULES": "osop.security.rules",
    "Classification": "osop.security.rules",
    "Level": "osop.security.rules",
    "Reason": "osop.security.rules",
    "Rule": "osop.security.rules",
    "SecretStore": "osop.security.secrets",
    "classify_command": "osop.security.commands",
    "classify_sql": "osop.security.sql",
    "load_env_file": "osop.security.envfile",
    "parse_env": "osop.security.envfile",
}

__all__ = [
    "LEVELS",
    "MASK",
    "RULES",
    "Classification",
    "Level",
    "Reason",
    "Redactor",
    "Rule",
    "SecretStore",
    "classify_command",
    "classify_sql",
    "is_secret_key",
    "load_env_file",
    "parse_env",
    "redact",
]

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import Any

    from osop.security.commands import classify_command
    from osop.security.envfile import load_env_file, parse_env
    from osop.security.rules import LEVELS, RULES, Classification, Level, Reason, Rule
    from osop.security.secrets import SecretStore
    from osop.security.sql import classify_sql


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'osop.security' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
