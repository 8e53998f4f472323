"""Alembic environment: run programmatically with the engine in ``config.attributes``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from registry_link.db.models import Base

target_metadata = Base.metadata


def run_migrations_online() -> None:
    """Run the migrations on the engine given by :func:`registry_link.db.engine.upgrade`."""
    config = context.config
    engine = config.attributes.get("engine")
    if engine is None:  # plain `alembic` command line: sqlalchemy.url from the ini file
        engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():  # pragma: no cover - offline SQL scripts are not supported
    raise SystemExit("registry-link migrations run online only (registry-link init)")
run_migrations_online()
