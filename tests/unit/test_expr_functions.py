"""The OSOP functions, called directly (the engine may use them outside CEL too)."""

from __future__ import annotations

import datetime as dt

import pytest

from osop.errors import MissingReferenceError
from osop.expr import OSOP_FUNCTION_NAMES, NodeFacts, osop_functions

FACTS = {
    "build": NodeFacts("completed", 4.25, None, 1),
    "deploy": NodeFacts("FAILED", None, {"code": 7, "message": "no route"}, 3),
}


def test_all_five_functions_are_provided() -> None:
    assert set(osop_functions(FACTS.get)) == set(OSOP_FUNCTION_NAMES)


def test_status_is_upper_case_and_pending_when_not_run() -> None:
    functions = osop_functions(FACTS.get, current="deploy", known_ids={"build", "deploy", "later"})
    assert functions["status"]("build") == "COMPLETED"
    assert functions["status"]() == "FAILED"
    assert functions["status"]("later") == "PENDING"


def test_duration_and_error() -> None:
    functions = osop_functions(FACTS.get, current="deploy")
    assert functions["duration_of"]("build") == 4.25
    assert functions["duration_of"]("deploy") is None
    assert functions["duration_of"]("unknown") is None
    assert functions["error_of"]() == {"code": "7", "message": "no route", "details": ""}
    assert functions["error_of"]("build") == {"code": "", "message": "", "details": ""}


def test_attempt_and_now() -> None:
    moment = dt.datetime(2031, 1, 1, tzinfo=dt.UTC)
    functions = osop_functions(FACTS.get, current="deploy", clock=lambda: moment)
    assert functions["attempt"]() == 3
    assert functions["now"]() is moment


def test_attempt_of_a_node_without_record_is_one() -> None:
    assert osop_functions(FACTS.get, current="new")["attempt"]() == 1


def test_functions_without_a_current_node_need_an_id() -> None:
    functions = osop_functions(FACTS.get)
    with pytest.raises(MissingReferenceError, match=r"status\(\) needs a node id"):
        functions["status"]()
    with pytest.raises(MissingReferenceError, match="belongs to a node"):
        functions["attempt"]()


def test_unknown_id_with_known_ids_fails_with_suggestion() -> None:
    functions = osop_functions(FACTS.get, known_ids={"build", "deploy"})
    with pytest.raises(MissingReferenceError, match="did you mean 'deploy'"):
        functions["duration_of"]("deplyo")


def test_non_string_id_is_explained() -> None:
    functions = osop_functions(FACTS.get)
    with pytest.raises(MissingReferenceError, match="takes a node id string"):
        functions["status"]({"x": 1})
