"""OSOP Studio: plan a process in the browser, alone or together.

``osop studio [PATH]`` serves a local web app over a folder of ``.osop``/``.sop``
files.  The server (:mod:`osop.studio.app`) needs the ``studio`` extra
(``pip install 'osop-toolkit[studio]'``); the built web assets ship inside the
package (``osop/studio/static``), so no Node is needed at run time.
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

from osop.errors import OsopError

__all__ = ["INSTALL_HINT", "STATIC_DIR", "require_studio_extra"]

INSTALL_HINT = (
    "osop studio needs the `studio` extra (FastAPI, uvicorn, pycrdt-websocket): "
    "pip install 'osop-toolkit[studio]'"
)

#: Where the built web app lives (``python3 tasks.py studio`` writes it).
STATIC_DIR = Path(__file__).resolve().parent / "static"


def require_studio_extra() -> None:
    """Raise a friendly :class:`OsopError` naming what is missing."""
    missing = [m for m in ("fastapi", "uvicorn", "pycrdt", "pycrdt.websocket") if _missing(m)]
    if missing:
        raise OsopError(f"{INSTALL_HINT} (missing: {', '.join(missing)})")
    if not (STATIC_DIR / "index.html").is_file():
        raise OsopError(
            f"the studio's web app is not built ({STATIC_DIR / 'index.html'} is missing): "
            "in a source checkout run `python3 tasks.py studio` (needs Node 20 and npm)"
        )


def _missing(module: str) -> bool:
    try:
        return find_spec(module) is None
    except ModuleNotFoundError:  # a parent package is absent
        return True
