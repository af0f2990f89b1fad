"""Engine and sessions for SQLite and PostgreSQL.

SQLite runs in WAL mode with a busy timeout, and a write transaction starts with
``BEGIN IMMEDIATE`` (a deferred transaction that later upgrades to a writer fails at once with
"database is locked"). On PostgreSQL, services lock the row they change with ``FOR UPDATE``.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

SQLITE_BUSY_TIMEOUT_MS = 30_000


def make_engine(url: str, **kwargs) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            **kwargs,
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # pragma: no cover - exercised by every SQLite test
            # pysqlite's own transaction handling is switched off so that we can say BEGIN
            # IMMEDIATE ourselves (see _begin below).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn):  # pragma: no cover - exercised by every SQLite test
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("write") else "BEGIN")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def is_sqlite(session_or_engine) -> bool:
    bind = session_or_engine.get_bind() if isinstance(session_or_engine, Session) else session_or_engine
    return bind.dialect.name == "sqlite"


@lru_cache(maxsize=4)
def get_engine(url: str | None = None) -> Engine:
    if url is None:
        from gazportal.settings import get_settings

        url = get_settings().db_url
    return make_engine(url)


@contextmanager
def read_session(engine: Engine | None = None) -> Iterator[Session]:
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        yield session


@contextmanager
def write_session(engine: Engine | None = None) -> Iterator[Session]:
    """A session whose transaction takes the write lock at once on SQLite (BEGIN IMMEDIATE).

    Commits on success, rolls back on any exception.
    """
    engine = engine or get_engine()
    with engine.connect() as conn:
        conn.info["write"] = True
        try:
            with Session(bind=conn, expire_on_commit=False) as session:
                try:
                    yield session
                    session.commit()
                except BaseException:
                    session.rollback()
                    raise
        finally:
            conn.info.pop("write", None)


def migrate(engine: Engine) -> None:
    """Apply the Alembic migrations in ``alembic/`` to ``engine`` (the scripts ``reflex db
    migrate`` applies): for tests, benchmarks and tools that make a fresh database."""
    from pathlib import Path

    from alembic import command
    from alembic.config import Config

    root = Path(__file__).resolve().parent.parent
    cfg = Config(str(root / "alembic.ini"))
    cfg.set_main_option("script_location", str(root / "alembic"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
