"""Every file others wrote in the format gets a sensible verdict (data-driven over corpus/).

Deliberately broken fixtures (MANIFEST ``fixture`` = ``invalid:…`` or a stub with
missing required fields) are rejected with the rule that names their fault;
every other file passes, with warnings where it uses legacy forms.
"""

from __future__ import annotations

import csv

import pytest
from corpus_dir import CORPUS

from osop.format.validate import validate_path

MANIFEST = CORPUS / "MANIFEST.tsv"

#: MANIFEST fixture label → the rule(s) that must be reported as errors.
EXPECTED_RULES = {
    "invalid:document/yaml-syntax": {"document/yaml-syntax"},
    "invalid:required/missing-name-nodes-edges": {"schema/required"},
    "invalid:required/missing-nodes-edges": {"schema/required"},
    "invalid:graph/empty-nodes": {"workflow/empty-nodes"},
    "invalid:graph/dangling-edge-ref": {"edge/unknown-node"},
    "invalid:enum/unknown-node-type": {"node/unknown-type"},
    "invalid:required/missing-id": {"schema/required", "workflow/empty-nodes"},
}

if not MANIFEST.exists():  # pragma: no cover - the corpus ships beside the repo
    pytest.skip(f"corpus not found at {CORPUS}", allow_module_level=True)


def _rows() -> list[dict[str, str]]:
    with MANIFEST.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def test_manifest_lists_every_file() -> None:
    listed = {row["file"] for row in _rows()}
    present = {p.name for p in CORPUS.iterdir() if p.name != "MANIFEST.tsv"}
    assert present <= listed


@pytest.mark.parametrize("row", _rows(), ids=lambda r: r["file"])
def test_verdict(row: dict[str, str]) -> None:
    report = validate_path(CORPUS / row["file"])
    errors = {i.rule for i in report.errors}
    fixture = row["fixture"]
    if fixture.startswith("invalid:"):
        assert not report.valid
        assert EXPECTED_RULES[fixture] <= errors, errors
    elif fixture == "stub" and row["missing_required"] not in ("", "-"):
        assert not report.valid
        assert "schema/required" in errors
    elif fixture == "stub":
        assert not report.valid  # an empty node list
    else:
        assert report.valid, [i.format(row["file"]) for i in report.errors]
        assert report.kind == {"workflow": "workflow", "log": "log", "sop": "sop"}[row["kind"]]
        if report.kind == "workflow":
            assert report.level is not None


def test_legacy_forms_are_warned_about() -> None:
    rules = set()
    for row in _rows():
        rules |= {i.rule for i in validate_path(CORPUS / row["file"]).warnings}
    assert {"edge/deprecated-condition", "workflow/unknown-version", "node/missing-name"} <= rules
