from __future__ import annotations

from pathlib import Path

import pytest
from corpus_dir import CORPUS


@pytest.fixture(scope="session")
def corpus_logs() -> list[Path]:
    logs = sorted(CORPUS.glob("*.osoplog*"))
    if not logs:
        pytest.skip(f"no corpus records under {CORPUS}")
    return logs
