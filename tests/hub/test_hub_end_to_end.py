"""End to end through the real commands: ``osop hub serve`` in its own process, then
token → login → publish the corpus ``.sop`` and a workflow → search → pull into an
empty folder → ``osop run --mode simulated`` → upload the records → the ranking moves.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from corpus_dir import CORPUS
from hub_servers import hub_process

from osop.cli.main import cli

SOP_FILE = "osop-examples__osop-self__osop-ecosystem.sop"


def _corpus_tree(dest: Path) -> Path:
    """Lay the corpus .sop and the workflows it refers to out as in their repository."""
    manifest = CORPUS / "MANIFEST.tsv"
    if not (CORPUS / SOP_FILE).is_file() or not manifest.is_file():
        pytest.skip(f"the shared corpus is absent ({CORPUS})")
    with manifest.open(encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle, delimiter="\t") if r["repo"] == "osop-examples"]
    sop_row = next(r for r in rows if r["file"] == SOP_FILE)
    by_path: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_path.setdefault(row["path"], []).append(row)
    for path, versions in by_path.items():
        # The version from the .sop's own commit when there are several.
        chosen = next((r for r in versions if r["commit"] == sop_row["commit"]), versions[0])
        target = dest / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((CORPUS / chosen["file"]).read_bytes())
    return dest / sop_row["path"]


@pytest.fixture
def hub_server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    db = f"sqlite:///{tmp_path / 'hub.sqlite3'}"
    with hub_process(db) as url:
        yield url, db


def _osop(*args: str, env: dict[str, str]) -> str:
    result = CliRunner(env=env).invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, f"osop {' '.join(args)}:\n{result.output}"
    return result.output


@pytest.mark.slow
def test_serve_publish_search_pull_run_and_evidence(
    tmp_path: Path, hub_server: tuple[str, str]
) -> None:
    url, db = hub_server
    env = {"OSOP_HUB_CONFIG": str(tmp_path / "config" / "hub.json"), "OSOP_HUB_URL": ""}
    token = _osop("hub", "token", "create", "osop-team", "--db", db, env=env).strip()
    assert token.startswith("osop_")
    assert "as osop-team" in _osop("hub", "login", "--url", url, "--token", token, env=env)
    assert (Path(env["OSOP_HUB_CONFIG"]).stat().st_mode & 0o777) == 0o600

    sop = _corpus_tree(tmp_path / "corpus")
    published = _osop("hub", "publish", str(sop), "--name", "osop-team/ecosystem", env=env)
    assert "Published osop-team/ecosystem@2.0.0 (sop" in published
    stripe = sop.parent.parent / "api-sops" / "stripe-payment-flow.osop.yaml"
    _osop(
        "hub", "publish", str(stripe), "--name", "osop-team/stripe-payment", "--version", "1.0.0",
        env=env,
    )  # fmt: skip

    def ranking() -> list[str]:
        out = _osop("hub", "search", "stripe payment", "--json", env=env)
        return [hit["package"] for hit in json.loads(out)]

    before = ranking()
    assert sorted(before) == ["osop-team/ecosystem", "osop-team/stripe-payment"]

    pulled = tmp_path / "pulled"
    pulled.mkdir()
    out = _osop("hub", "pull", "osop-team/ecosystem", "-o", str(pulled), env=env)
    assert "Pulled osop-team/ecosystem@2.0.0" in out
    for path in sop.parent.parent.rglob("*"):
        twin = pulled / path.relative_to(sop.parent.parent)
        if twin.exists() and path.is_file():
            assert twin.read_bytes() == path.read_bytes()
    workflow = pulled / "api-sops" / "stripe-payment-flow.osop.yaml"
    assert workflow.is_file()

    # Rehearse the pulled workflow and upload the records to the package ranked last.
    last = before[-1]
    records = []
    for number in range(4):
        log = tmp_path / f"run{number}.osoplog"
        _osop(
            "run", str(workflow), "--mode", "simulated", "--log", str(log),
            "--store", str(tmp_path / "store"), "-q", env=env,
        )  # fmt: skip
        records.append(str(log))
    uploaded = _osop("hub", "record", last, *records, env=env)
    assert "4 runs, 100% succeeded" in uploaded
    after = ranking()
    assert after[0] == last and after != before

    shown = _osop("hub", "show", last, env=env)
    assert "sop-stripe-payment: 4 runs, 100% succeeded" in shown
    # Yanking the evidence-backed version drops it from search.
    version = "2.0.0" if last == "osop-team/ecosystem" else "1.0.0"
    _osop("hub", "yank", f"{last}@{version}", "--reason", "superseded", env=env)
    assert last not in ranking()


@pytest.mark.slow
def test_cli_errors_are_clear(tmp_path: Path, hub_server: tuple[str, str]) -> None:
    url, db = hub_server
    env = {"OSOP_HUB_CONFIG": str(tmp_path / "hub.json"), "OSOP_HUB_URL": url}
    runner = CliRunner(env=env)
    wf = tmp_path / "w.osop.yaml"
    wf.write_text((Path(__file__).parents[2] / "osop/templates/basic.osop.yaml").read_text())
    result = runner.invoke(cli, ["hub", "publish", str(wf), "--name", "a/b", "--version", "1.0.0"])
    assert result.exit_code == 1 and "needs a token" in result.output
    token = _osop("hub", "token", "create", "alice", "--db", db, env=env).strip()
    env["OSOP_HUB_TOKEN"] = token
    result = CliRunner(env=env).invoke(
        cli, ["hub", "publish", str(wf), "--name", "bob/b", "--version", "1.0.0"]
    )
    assert result.exit_code == 1 and "another owner's namespace" in result.output
    result = CliRunner(env=env).invoke(cli, ["hub", "pull", "alice/none", "-o", str(tmp_path)])
    assert result.exit_code == 1 and "no package alice/none" in result.output
    assert "Traceback" not in result.output
