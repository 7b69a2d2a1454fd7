"""The SOP Hub: a registry of validated processes, and its client.

The client side (:mod:`osop.hub.client`, :mod:`osop.hub.package`) needs only the
core dependencies; the server (:mod:`osop.hub.server`, :mod:`osop.hub.store`)
needs the ``hub`` extra: ``pip install 'osop-toolkit[hub]'``.
"""

from __future__ import annotations

__all__ = ["INSTALL_HINT", "require_server_extra"]

INSTALL_HINT = (
    "the hub server needs the `hub` extra (FastAPI, uvicorn, SQLAlchemy, Alembic, psycopg): "
    "pip install 'osop-toolkit[hub]'"
)


def require_server_extra() -> None:
    """Raise a friendly :class:`~osop.errors.OsopError` when the server's packages are missing."""
    from importlib.util import find_spec

    from osop.errors import OsopError

    missing = [m for m in ("fastapi", "uvicorn", "sqlalchemy", "alembic") if find_spec(m) is None]
    if missing:
        raise OsopError(f"{INSTALL_HINT} (missing: {', '.join(missing)})")
