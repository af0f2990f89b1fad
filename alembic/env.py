"""Alembic environment for the plain `alembic` command and for tests.

`reflex db migrate` runs the same scripts through its own environment; both use the portal's
configured database (GAZPORTAL_DB_URL) unless a connection is handed in through
``config.attributes["connection"]`` (the tests do this for SQLite and PostgreSQL).
"""
from alembic import context
from sqlmodel import SQLModel

import gazportal.models  # noqa: F401  (registers the tables)
from gazportal.db import make_engine
from gazportal.settings import get_settings

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_offline() -> None:
    context.configure(url=get_settings().db_url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(get_settings().db_url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
