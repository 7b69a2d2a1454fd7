"""Security: command/SQL risk classification, secret redaction, secret sources."""

from __future__ import annotations

from osop.security.commands import classify_command
from osop.security.envfile import load_env_file, parse_env
from osop.security.redact import MASK, Redactor, is_secret_key, redact
from osop.security.rules import LEVELS, RULES, Classification, Level, Reason, Rule
from osop.security.secrets import SecretStore
from osop.security.sql import classify_sql

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
