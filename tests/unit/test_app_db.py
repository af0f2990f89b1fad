"""The ``app_db`` fixture: the app's own engine (``gazportal.db.get_engine``, what handlers use)
is the test's database, on each backend the state tests of writing handlers run on."""
import sqlalchemy as sa

from gazportal import db
from gazportal.db import read_session, write_session
from gazportal.models import Account


def test_the_app_writes_where_the_test_reads(app_db, app_backend):
    app = db.get_engine()
    assert app.dialect.name == app_db.dialect.name == app_backend
    with write_session(app) as s:
        s.add(Account(number="100200300", holder_name="Seen", address="x"))
    with read_session(app_db) as s:
        assert s.scalar(sa.select(Account.holder_name).where(Account.number == "100200300")) == "Seen"
