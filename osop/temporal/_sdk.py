"""The Temporal SDK is an optional extra: one place says how to install it."""

from __future__ import annotations

from osop.errors import OsopError

__all__ = ["INSTALL_HINT", "require_sdk"]

INSTALL_HINT = "pip install 'osop-toolkit[temporal]'"


def require_sdk() -> None:
    """Raise a clear error (never an ImportError traceback) when temporalio is absent."""
    try:
        import temporalio.client  # noqa: F401
    except ImportError as exc:
        raise OsopError(f"running on Temporal needs the Temporal SDK: {INSTALL_HINT}") from exc
