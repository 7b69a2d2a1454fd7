"""Alembic migrations of the hub's database (run by :func:`osop.hub.store.migrate`)."""
