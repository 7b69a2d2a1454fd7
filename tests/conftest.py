"""Checks that hold after every test."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _model_empty_mapping_untouched() -> Iterator[None]:
    """The workflow model shares one empty dict among every absent mapping field
    (osop.format.workflow.EMPTY_MAPPING): code that changed a model's mapping in
    place would change every node's at once, so no test may leave it non-empty."""
    yield
    module = sys.modules.get("osop.format.workflow")
    if module is None:
        return  # not imported here (this check must not import it)
    shared = module.EMPTY_MAPPING
    changed = dict(shared)
    shared.clear()  # so that one offender fails one test, not every test after it
    assert not changed, f"a model's shared empty mapping was changed: {changed}"
