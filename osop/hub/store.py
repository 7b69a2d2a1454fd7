"""The hub's one data layer: SQLite or PostgreSQL behind the same methods.

Every write is one transaction: a publish that fails (invalid document, wrong
hash, version taken) leaves nothing behind.  Full-text search is the database's
own (FTS5 on SQLite, tsvector on PostgreSQL); ranking multiplies the text rank by
an evidence factor taken from uploaded execution records.
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, func, literal_column, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer

from osop.errors import OsopError

if TYPE_CHECKING:
    from osop.hub.summary import PackageSummary

from osop.hub.models import Owner, PackageRow, RecordRow, Token, VersionFile, VersionRow
from osop.hub.package import (
    MAX_FILE_BYTES,
    MAX_FILES,
    PackageError,
    check_name,
    content_hash,
    file_digest,
    parse_semver,
    semver_key,
)

__all__ = ["HubError", "HubStore", "default_db_url", "hash_token", "migrate"]

#: Records of one run are large; more than this in one upload is refused.
MAX_RECORD_BYTES = 2_000_000
#: At most this many matches are ranked per query (the rest are less relevant anyway).
CANDIDATES = 500


class HubError(OsopError):
    """A refused request: the HTTP status, a message and (for invalid documents) issues."""

    def __init__(self, status: int, message: str, issues: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.status = status
        self.issues = issues or []


def default_db_url() -> str:
    """SQLite in the user's data folder (``$XDG_DATA_HOME/osop/hub.sqlite3``)."""
    import os

    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return f"sqlite:///{base / 'osop' / 'hub.sqlite3'}"


def hash_token(token: str) -> str:
    # Tokens are 256 random bits: a plain SHA-256 cannot be brute-forced back.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def _engine(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            # WAL: readers never wait for the one writer (concurrent searches during publishes).
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    if url.startswith("postgresql+psycopg://"):
        return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
    raise OsopError(
        f"unsupported database URL {url!r}: use sqlite:///PATH or postgresql://USER@HOST:PORT/DB"
    )


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (Alembic, the scripts in osop/hub/migrations)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def _delimited(values: list[str]) -> str:
    return "|" + "|".join(values) + "|" if values else ""


def _split(value: str) -> list[str]:
    return [v for v in value.split("|") if v]


def wilson_lower_bound(successes: int, runs: int, z: float = 1.96) -> float:
    """How sure we are of a success rate: 9/10 ranks below 90/100 (the Wilson interval)."""
    if runs <= 0:
        return 0.0
    p = successes / runs
    centre = p + z * z / (2 * runs)
    margin = z * math.sqrt((p * (1 - p) + z * z / (4 * runs)) / runs)
    return (centre - margin) / (1 + z * z / runs)


def evidence_factor(successes: int, runs: int) -> float:
    """1.0 without evidence, up to 3.0 for many successful runs."""
    return 1.0 + 2.0 * wilson_lower_bound(successes, runs)


@dataclass(slots=True)
class SearchFilters:
    node_type: str | None = None
    tag: str | None = None
    min_level: int | None = None
    owner: str | None = None


@dataclass(slots=True)
class PublishResult:
    owner: str
    name: str
    version: str
    content_hash: str
    summary: dict[str, Any]
    warnings: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "package": f"{self.owner}/{self.name}",
            "version": self.version,
            "content_hash": self.content_hash,
            "summary": self.summary,
            "warnings": self.warnings,
        }


class HubStore:
    """The hub's database: open with a URL, :func:`migrate` once, then use the methods."""

    def __init__(self, url: str | None = None, *, run_migrations: bool = True) -> None:
        self.url = url or default_db_url()
        self.engine = _engine(self.url)
        self.dialect = self.engine.dialect.name
        if run_migrations:
            migrate(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with Session(self.engine) as session, session.begin():
            yield session

    # -- accounts ---------------------------------------------------------------------

    def create_token(self, owner: str, label: str = "") -> str:
        """A new token for ``owner`` (the owner is created on first use); shown once."""
        check_name("owner", owner)
        token = "osop_" + secrets.token_urlsafe(32)
        with self._session() as session:
            row = session.scalar(select(Owner).where(Owner.name == owner))
            if row is None:
                row = Owner(name=owner, created_at=_now())
                session.add(row)
                session.flush()
            session.add(
                Token(
                    owner_id=row.id,
                    token_hash=hash_token(token),
                    label=label,
                    created_at=_now(),
                    revoked=False,
                )
            )
        return token

    def revoke_tokens(self, owner: str) -> int:
        with self._session() as session:
            rows = session.scalars(
                select(Token).join(Owner, Owner.id == Token.owner_id).where(Owner.name == owner)
            ).all()
            for row in rows:
                row.revoked = True
            return len(rows)

    def owner_of(self, token: str) -> str | None:
        """The owner a token speaks for, or ``None`` (unknown or revoked)."""
        with self._session() as session:
            return session.scalar(
                select(Owner.name)
                .join(Token, Token.owner_id == Owner.id)
                .where(Token.token_hash == hash_token(token), Token.revoked.is_(False))
            )

    # -- publishing -------------------------------------------------------------------

    def publish(
        self,
        owner: str,
        name: str,
        version: str,
        main: str,
        files: Mapping[str, str],
        declared_hash: str,
    ) -> PublishResult:
        """Validate and store one version; :class:`HubError` says why when refused."""
        from osop.hub.summary import summarize_package

        try:
            check_name("owner", owner)
            check_name("package", name)
            parse_semver(version)
        except PackageError as exc:
            raise HubError(422, str(exc)) from None
        if len(files) > MAX_FILES:
            raise HubError(413, f"{len(files)} files is over the {MAX_FILES}-file limit")
        for path, body in files.items():
            if len(body.encode("utf-8")) > MAX_FILE_BYTES:
                raise HubError(413, f"{path} is over the {MAX_FILE_BYTES}-byte file limit")
        actual = content_hash(files)
        if actual != declared_hash:
            raise HubError(
                422,
                f"content hash mismatch: the package declares {declared_hash} but its files "
                f"hash to {actual} (altered in transit?); nothing was stored",
            )
        try:
            summary = summarize_package(main, dict(files))
        except PackageError as exc:
            raise HubError(422, f"{exc}; nothing was stored") from None
        if summary.errors:
            raise HubError(422, "the package does not validate; nothing was stored", summary.issues)
        record = summary.to_dict()
        self.store_version(owner, name, version, main, files, summary, actual)
        warnings = [i for i in summary.issues if i["severity"] == "warning"]
        return PublishResult(owner, name, version, actual, record, warnings)

    def store_version(
        self,
        owner: str,
        name: str,
        version: str,
        main: str,
        files: Mapping[str, str],
        summary: PackageSummary,
        actual: str,
    ) -> None:
        """Store a version that :meth:`publish` has already checked (hash, validation).

        Separate so that importers holding validated packages (the load benchmark's
        seeding) store them through the same code as a publish.
        """
        record = summary.to_dict()
        with self._session() as session:
            package = session.scalar(
                select(PackageRow).where(PackageRow.owner == owner, PackageRow.name == name)
            )
            if package is None:
                package = PackageRow(owner=owner, name=name, created_at=_now())
                session.add(package)
                try:
                    session.flush()
                except IntegrityError:
                    raise HubError(
                        409, f"{owner}/{name} was created by a concurrent publish; try again"
                    ) from None
            taken = session.scalar(
                select(VersionRow.id).where(
                    VersionRow.package_id == package.id, VersionRow.version == version
                )
            )
            if taken is not None:
                raise HubError(
                    409,
                    f"{owner}/{name}@{version} is already published; versions are immutable "
                    "(publish a new version, or yank this one)",
                )
            row = VersionRow(
                package_id=package.id,
                version=version,
                kind=summary.kind,
                main=main,
                content_hash=actual,
                title=summary.title,
                description=summary.description,
                level=summary.level,
                node_types=_delimited(summary.node_types),
                tags=_delimited(summary.tags),
                summary=json.dumps(record),
                size=sum(len(b.encode("utf-8")) for b in files.values()),
                published_at=_now(),
                yanked=False,
                runs=0,
                successes=0,
            )
            session.add(row)
            try:
                session.flush()
            except IntegrityError:
                raise HubError(409, f"{owner}/{name}@{version} is already published") from None
            for path, body in sorted(files.items()):
                session.add(
                    VersionFile(
                        version_id=row.id, path=path, content=body, sha256=file_digest(body)
                    )
                )
            self._index(session, row.id, f"{owner} {name} {summary.search_text()}")

    def _index(self, session: Session, version_id: int, body: str) -> None:
        if self.dialect == "postgresql":
            session.execute(
                text(
                    "UPDATE versions SET search_vector = to_tsvector('english', :body) "
                    "WHERE id = :id"
                ),
                {"body": body, "id": version_id},
            )
        else:
            session.execute(
                text("INSERT INTO version_fts(rowid, body) VALUES (:id, :body)"),
                {"id": version_id, "body": body},
            )

    def yank(self, owner: str, name: str, version: str, reason: str, *, undo: bool = False) -> None:
        with self._session() as session:
            row = self._version_row(session, owner, name, version)
            row.yanked = not undo
            row.yank_reason = None if undo else (reason or "yanked")

    # -- reading ----------------------------------------------------------------------

    def _package_row(self, session: Session, owner: str, name: str) -> PackageRow:
        row = session.scalar(
            select(PackageRow).where(PackageRow.owner == owner, PackageRow.name == name)
        )
        if row is None:
            raise HubError(404, f"no package {owner}/{name}")
        return row

    def _version_row(self, session: Session, owner: str, name: str, version: str) -> VersionRow:
        package = self._package_row(session, owner, name)
        if version == "latest":
            rows = session.scalars(
                select(VersionRow).where(
                    VersionRow.package_id == package.id, VersionRow.yanked.is_(False)
                )
            ).all()
            if not rows:
                raise HubError(404, f"{owner}/{name} has no version that is not yanked")
            return max(rows, key=lambda r: semver_key(r.version))
        row = session.scalar(
            select(VersionRow).where(
                VersionRow.package_id == package.id, VersionRow.version == version
            )
        )
        if row is None:
            raise HubError(404, f"no version {version} of {owner}/{name}")
        return row

    @staticmethod
    def _version_dict(owner: str, name: str, row: VersionRow) -> dict[str, Any]:
        return {
            "package": f"{owner}/{name}",
            "owner": owner,
            "name": name,
            "version": row.version,
            "kind": row.kind,
            "main": row.main,
            "title": row.title,
            "description": row.description,
            "level": row.level,
            "node_types": _split(row.node_types),
            "tags": _split(row.tags),
            "content_hash": row.content_hash,
            "size": row.size,
            "published_at": row.published_at.isoformat(),
            "yanked": row.yanked,
            "yank_reason": row.yank_reason,
            "evidence": {
                "runs": row.runs,
                "successes": row.successes,
                "success_rate": round(row.successes / row.runs, 4) if row.runs else None,
            },
        }

    def package(self, owner: str, name: str) -> dict[str, Any]:
        with self._session() as session:
            package = self._package_row(session, owner, name)
            rows = session.scalars(
                select(VersionRow).where(VersionRow.package_id == package.id)
            ).all()
            versions = sorted(rows, key=lambda r: semver_key(r.version), reverse=True)
            live = [r for r in versions if not r.yanked]
            latest = live[0] if live else None
            return {
                "package": f"{owner}/{name}",
                "owner": owner,
                "name": name,
                "latest": latest.version if latest else None,
                "versions": [self._version_dict(owner, name, r) for r in versions],
            }

    def version(self, owner: str, name: str, version: str, *, files: bool = True) -> dict[str, Any]:
        with self._session() as session:
            row = self._version_row(session, owner, name, version)
            out = self._version_dict(owner, name, row)
            out["summary"] = json.loads(row.summary)
            if files:
                out["files"] = {
                    f.path: {"content": f.content, "sha256": f.sha256}
                    for f in session.scalars(
                        select(VersionFile).where(VersionFile.version_id == row.id)
                    )
                }
            return out

    def recent(self, limit: int = 20) -> list[dict[str, Any]]:
        """The most recently published versions that are not yanked (the browse page)."""
        with self._session() as session:
            rows = session.execute(
                select(PackageRow.owner, PackageRow.name, VersionRow)
                .join(VersionRow, VersionRow.package_id == PackageRow.id)
                .where(VersionRow.yanked.is_(False))
                .order_by(VersionRow.published_at.desc(), VersionRow.id.desc())
                .limit(limit)
            ).all()
            return [self._version_dict(o, n, v) for o, n, v in rows]

    def count_packages(self) -> int:
        with self._session() as session:
            return int(session.scalar(select(func.count(PackageRow.id))) or 0)

    # -- search -----------------------------------------------------------------------

    def search(
        self, query: str = "", filters: SearchFilters | None = None, limit: int = 20
    ) -> list[dict[str, Any]]:
        """Packages matching ``query`` and ``filters``, best first, one (best) version each.

        The score is the database's text rank times :func:`evidence_factor`, so of two
        equally relevant versions the one with more successful recorded runs wins.
        """
        filters = filters or SearchFilters()
        limit = max(1, min(limit, 100))
        # Light columns only: the candidates are scored first, the winners loaded after.
        stmt = (
            select(
                PackageRow.owner,
                PackageRow.name,
                VersionRow.id,
                VersionRow.successes,
                VersionRow.runs,
            )
            .join(VersionRow, VersionRow.package_id == PackageRow.id)
            .where(VersionRow.yanked.is_(False))
        )
        if filters.owner:
            stmt = stmt.where(PackageRow.owner == filters.owner)
        if filters.node_type:
            stmt = stmt.where(
                VersionRow.node_types.contains(f"|{filters.node_type}|", autoescape=True)
            )
        if filters.tag:
            stmt = stmt.where(VersionRow.tags.contains(f"|{filters.tag}|", autoescape=True))
        if filters.min_level is not None:
            stmt = stmt.where(VersionRow.level >= filters.min_level)
        words = _query_words(query)
        if words and self.dialect == "postgresql":
            tsquery = func.to_tsquery("english", " & ".join(f"{w}:*" for w in words))
            rank = func.ts_rank(text("versions.search_vector"), tsquery).label("rank")
            stmt = (
                stmt.add_columns(rank)
                .where(text("versions.search_vector @@ to_tsquery('english', :tsq)"))
                .params(tsq=" & ".join(f"{w}:*" for w in words))
                .order_by(rank.desc())
            )
        elif words:
            match = " ".join(f'"{w}"*' for w in words)
            fts = (
                select(
                    literal_column("rowid").label("vid"),
                    literal_column("-bm25(version_fts)").label("rank"),
                )
                .select_from(text("version_fts"))
                .where(text("version_fts MATCH :match"))
                .subquery()
            )
            stmt = (
                stmt.join(fts, fts.c.vid == VersionRow.id)
                .add_columns(fts.c.rank)
                .order_by(fts.c.rank.desc())
                .params(match=match)
            )
        else:
            stmt = stmt.add_columns(literal_column("1.0").label("rank")).order_by(
                VersionRow.runs.desc(), VersionRow.published_at.desc()
            )
        best: dict[tuple[str, str], tuple[float, int]] = {}
        with self._session() as session:
            rows: list[Any] = list(session.execute(stmt.limit(CANDIDATES)).all())
            for owner, name, version_id, successes, runs, rank in rows:
                score = max(float(rank), 1e-9) * evidence_factor(successes, runs)
                key = (owner, name)
                if key not in best or score > best[key][0]:
                    best[key] = (score, version_id)
            ranked = sorted(best.items(), key=lambda item: -item[1][0])[:limit]
            loaded = {
                row.id: row
                for row in session.scalars(
                    select(VersionRow)
                    .options(defer(VersionRow.summary))  # the hit needs none of it
                    .where(VersionRow.id.in_([v for _, (_, v) in ranked]))
                )
            }
            hits = []
            for (owner, name), (score, version_id) in ranked:
                hit = self._version_dict(owner, name, loaded[version_id])
                hit["score"] = round(score, 6)
                hits.append(hit)
            return hits

    # -- evidence ---------------------------------------------------------------------

    def add_record(
        self,
        owner: str,
        name: str,
        version: str,
        record_text: str,
        uploader: str,
        workflow: str | None = None,
    ) -> dict[str, Any]:
        """Validate, redact and store one ``.osoplog`` against a version; the new stats.

        The record must be a run of one of the version's workflows.  ``workflow`` says
        which when the record names another id — an imported agent session is recorded
        as ``claude-code-<project>`` while the workflow synthesised from such sessions
        has its own id; the stored record then carries ``workflow`` as its
        ``workflow_id`` and the id it came with as ``x-hub-recorded-as``.
        """
        from osop.format.validate import validate_text
        from osop.record.model import RunRecord
        from osop.security.redact import redact

        if len(record_text.encode("utf-8")) > MAX_RECORD_BYTES:
            raise HubError(413, f"a record is at most {MAX_RECORD_BYTES} bytes")
        report = validate_text(record_text, "record", kind="log", max_bytes=MAX_RECORD_BYTES)
        if not report.valid or not isinstance(report.model, RunRecord):
            issues = [i.to_dict("record") for i in report.issues if i.severity == "error"]
            raise HubError(422, "the record does not validate; nothing was stored", issues)
        record = report.model
        assert report.document is not None
        # Secrets under secret-looking keys (tokens, passwords, Authorization) are masked
        # before anything is written: the hub never holds them.
        cleaned = redact(report.document.data, [])
        with self._session() as session:
            row = self._version_row(session, owner, name, version)
            summary = json.loads(row.summary)
            ids = {w["id"] for w in summary.get("workflows", [])}
            if workflow is not None and workflow not in ids:
                raise HubError(
                    422,
                    f"{owner}/{name}@{row.version} has no workflow {workflow!r} "
                    f"(it has {', '.join(sorted(ids))})",
                )
            if workflow is not None and workflow != record.workflow_id:
                cleaned = {
                    **cleaned,
                    "workflow_id": workflow,
                    "x-hub-recorded-as": record.workflow_id,
                }
            elif record.workflow_id not in ids:
                raise HubError(
                    422,
                    f"the record is of workflow {record.workflow_id!r}, which "
                    f"{owner}/{name}@{row.version} does not contain ({', '.join(sorted(ids))}); "
                    "name the workflow it evidences (`--workflow ID`) if it is an imported session",
                )
            session.add(
                RecordRow(
                    version_id=row.id,
                    owner=uploader,
                    content=json.dumps(cleaned, default=str),
                    status=record.status,
                    uploaded_at=_now(),
                )
            )
            row.runs += 1
            row.successes += record.status == "COMPLETED"
        return self.stats(owner, name, version)

    def stats(self, owner: str, name: str, version: str) -> dict[str, Any]:
        """WorkflowStats (runs, success rate, p50/p95, cost) over a version's records."""
        from osop.analysis.stats import compute_stats
        from osop.record.model import record_from_dict

        with self._session() as session:
            row = self._version_row(session, owner, name, version)
            contents = session.scalars(
                select(RecordRow.content).where(RecordRow.version_id == row.id)
            ).all()
            resolved = row.version
        records = [record_from_dict(json.loads(c)) for c in contents]
        return {
            "package": f"{owner}/{name}",
            "version": resolved,
            "records": len(records),
            "workflows": [s.to_dict() for s in compute_stats(records)],
        }


def _query_words(query: str) -> list[str]:
    """Plain words only: the query languages' operators are never passed through."""
    import re

    return [w.lower() for w in re.findall(r"[^\W_]+", query)][:12]
