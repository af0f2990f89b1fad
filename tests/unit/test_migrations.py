"""The Alembic scripts build exactly the schema the models describe, and go down and up again."""
import secrets
from pathlib import Path

import pytest
import sqlalchemy as sa

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import gazportal.models  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]


def _cfg():
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "alembic"))
    return cfg


def test_models_and_migrations_agree(engine):
    """Tables, columns, types (lengths, precision), nullability, indexes, unique and foreign keys.

    Nothing is filtered out: on both backends the clean code shows no difference at all (our
    UTCDateTime compares as the DateTime it renders as), so any difference is real drift.
    """
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata)
    assert diff == [], f"models differ from the migrations: run `reflex db makemigrations`: {diff}"


def _checks(conn, schema=None) -> dict[str, set[tuple[str, str]]]:
    """{table: {(name, the database's own text of the check)}}: reflected, so both sides read alike."""
    insp = sa.inspect(conn)
    return {t: {(c["name"], " ".join(c["sqltext"].split())) for c in insp.get_check_constraints(t, schema=schema)}
            for t in SQLModel.metadata.tables}


def test_check_constraints_of_models_and_migrations_agree(engine):
    """Alembic never compares CHECK constraints: build the models' schema beside the migrated one
    (a scratch SQLite database, or a scratch PostgreSQL schema) and compare what each database
    says its checks are."""
    with engine.connect() as conn:
        migrated = _checks(conn)
        if engine.dialect.name == "postgresql":
            scratch = "m_" + secrets.token_hex(6)
            conn.exec_driver_sql(f'CREATE SCHEMA "{scratch}"')
            try:
                SQLModel.metadata.create_all(conn.execution_options(schema_translate_map={None: scratch}))
                from_models = _checks(conn, schema=scratch)
            finally:
                conn.rollback()
        else:
            other = sa.create_engine("sqlite://")
            with other.begin() as c:
                SQLModel.metadata.create_all(c)
                from_models = _checks(c)
            other.dispose()
    declared = [c for t in SQLModel.metadata.tables.values() for c in t.constraints
                if isinstance(c, sa.CheckConstraint)]
    assert len(declared) >= 16 and sum(map(len, from_models.values())) == len(declared)  # it sees them all
    assert migrated == from_models


def test_downgrade_to_base_and_up_again(engine):
    cfg = _cfg()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() is not None


def test_the_look_alike_keys_of_stored_users_are_filled(engine):
    """0005 fills ``login_skeleton`` for the users already stored; of logins that already look
    alike the oldest keeps the key (the others NULL, still blocked through it), and the unique
    index holds from then on."""
    from datetime import UTC, datetime

    from gazportal.services import identity

    cfg = _cfg()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "8c2f4d1e6a07")  # 0004: before the column
    logins = ["anna@example.kz", "аnna@example.kz", "bob@example.kz", "+380675056312"]  # the 2nd: Cyrillic а
    users = sa.table("user_account", *(sa.column(c) for c in (
        "login", "password_hash", "surname", "name", "kind", "language", "role", "is_active", "email_verified",
        "phone_verified", "created_at")))
    with engine.begin() as conn:
        conn.execute(sa.insert(users), [dict(login=x, password_hash="!", surname="S", name="N", kind="person",
                                             language="en", role="customer", is_active=True, email_verified=True,
                                             phone_verified=False, created_at=datetime.now(UTC)) for x in logins])
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    with engine.connect() as conn:
        got = dict(conn.execute(sa.text("SELECT login, login_skeleton FROM user_account")).all())
    assert got == {"anna@example.kz": identity.login_skeleton("anna@example.kz"), "аnna@example.kz": None,
                   "bob@example.kz": identity.login_skeleton("bob@example.kz"),
                   "+380675056312": identity.login_skeleton("+380675056312")}
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(sa.text("UPDATE user_account SET login_skeleton = :k WHERE login = 'bob@example.kz'"),
                     {"k": got["anna@example.kz"]})
