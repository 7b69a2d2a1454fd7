"""The first schema: owners, tokens, packages, versions, files, records, search index.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "owners",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(63), nullable=False, unique=True),
        sa.Column("created_at", _TS, nullable=False),
    )
    op.create_table(
        "tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("owner_id", sa.Integer, sa.ForeignKey("owners.id"), nullable=False, index=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("revoked", sa.Boolean, nullable=False),
    )
    op.create_table(
        "packages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("owner", sa.String(63), nullable=False, index=True),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.UniqueConstraint("owner", "name"),
    )
    op.create_table(
        "versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "package_id", sa.Integer, sa.ForeignKey("packages.id"), nullable=False, index=True
        ),
        sa.Column("version", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("main", sa.String(500), nullable=False),
        sa.Column("content_hash", sa.String(80), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("level", sa.Integer, nullable=True),
        sa.Column("node_types", sa.Text, nullable=False),
        sa.Column("tags", sa.Text, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("published_at", _TS, nullable=False),
        sa.Column("yanked", sa.Boolean, nullable=False),
        sa.Column("yank_reason", sa.Text, nullable=True),
        sa.Column("runs", sa.Integer, nullable=False),
        sa.Column("successes", sa.Integer, nullable=False),
        sa.UniqueConstraint("package_id", "version"),
    )
    op.create_table(
        "files",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "version_id", sa.Integer, sa.ForeignKey("versions.id"), nullable=False, index=True
        ),
        sa.Column("path", sa.String(500), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.UniqueConstraint("version_id", "path"),
    )
    op.create_table(
        "records",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "version_id", sa.Integer, sa.ForeignKey("versions.id"), nullable=False, index=True
        ),
        sa.Column("owner", sa.String(63), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("uploaded_at", _TS, nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.add_column("versions", sa.Column("search_vector", sa.dialects.postgresql.TSVECTOR))
        op.create_index("ix_versions_search", "versions", ["search_vector"], postgresql_using="gin")
    else:
        # FTS5: rowid = versions.id; porter stemming like PostgreSQL's 'english' config.
        op.execute("CREATE VIRTUAL TABLE version_fts USING fts5(body, tokenize='porter unicode61')")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_versions_search", table_name="versions")
    else:
        op.execute("DROP TABLE version_fts")
    for table in ("records", "files", "versions", "packages", "tokens", "owners"):
        op.drop_table(table)
