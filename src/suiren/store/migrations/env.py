"""Alembic environment: the engine comes from the caller (``suiren.store.migrate``)."""

from __future__ import annotations

from alembic import context

from suiren.store.tables import metadata

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=metadata)
    context.run_migrations()
