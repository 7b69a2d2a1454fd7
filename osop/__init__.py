"""OSOP: define, run, record, compare and improve processes.

The public API is what this module exports (``__all__``, pinned by a test).
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
