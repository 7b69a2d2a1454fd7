"""Where the shared corpus of real-world files lives, for every test that reads it.

``$OSOP_CORPUS_DIR`` when set, else ``shared/corpus`` beside the repository (where
CI and developers have it); agent transcripts likewise in ``shared/agent-sessions``
(``$OSOP_AGENT_SESSIONS_DIR``).  Tests that need it skip with this path in the reason
when it is absent, so a missing corpus is visible, never a silent pass.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["AGENT_SESSIONS", "CORPUS"]

_SHARED = Path(__file__).resolve().parents[2] / "shared"

CORPUS = Path(os.environ.get("OSOP_CORPUS_DIR") or _SHARED / "corpus")
AGENT_SESSIONS = Path(os.environ.get("OSOP_AGENT_SESSIONS_DIR") or _SHARED / "agent-sessions")
