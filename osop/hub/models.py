"""The hub's tables (SQLAlchemy 2), shared by SQLite and PostgreSQL.

The full-text index is dialect-specific and lives outside these classes: an FTS5
table ``version_fts`` on SQLite, a ``search_vector`` tsvector column with a GIN
index on PostgreSQL — both created by the migration (osop/hub/migrations).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = ["Base", "Owner", "PackageRow", "RecordRow", "Token", "VersionFile", "VersionRow"]


class Base(DeclarativeBase):
    pass


class Owner(Base):
    """A namespace (``owner`` in ``owner/name``); created by the hub operator."""

    __tablename__ = "owners"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Token(Base):
    """A publishing token, scoped to one owner; only its SHA-256 is stored."""

    __tablename__ = "tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class PackageRow(Base):
    __tablename__ = "packages"
    __table_args__ = (UniqueConstraint("owner", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[str] = mapped_column(String(63), index=True)
    name: Mapped[str] = mapped_column(String(63))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class VersionRow(Base):
    """One immutable published version (yanked versions stay, flagged)."""

    __tablename__ = "versions"
    __table_args__ = (UniqueConstraint("package_id", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("packages.id"), index=True)
    version: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    main: Mapped[str] = mapped_column(String(500))
    content_hash: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    level: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: ``|agent|api|`` and ``|tag|…|``: delimited so a filter matches whole names.
    node_types: Mapped[str] = mapped_column(Text)
    tags: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text)  # JSON: PackageSummary.to_dict()
    size: Mapped[int] = mapped_column(Integer)
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    yanked: Mapped[bool] = mapped_column(Boolean, default=False)
    yank_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: Evidence counters kept with each upload, so ranking needs no record parsing.
    runs: Mapped[int] = mapped_column(Integer, default=0)
    successes: Mapped[int] = mapped_column(Integer, default=0)


class VersionFile(Base):
    __tablename__ = "files"
    __table_args__ = (UniqueConstraint("version_id", "path"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"), index=True)
    path: Mapped[str] = mapped_column(String(500))
    content: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))


class RecordRow(Base):
    """An uploaded execution record (redacted before it was stored)."""

    __tablename__ = "records"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"), index=True)
    owner: Mapped[str] = mapped_column(String(63))  # who uploaded it
    content: Mapped[str] = mapped_column(Text)  # JSON of the redacted record
    status: Mapped[str] = mapped_column(String(32))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
