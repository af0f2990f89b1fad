"""A create form's submission id, used once across every tab, worker and instance.

The web layer (``state/contract.py``) calls :func:`use` before a create runs: the id is inserted
into ``used_submission`` (its primary key); a second insert of the same id fails, so a double
click, a repeated Enter or an event replayed on another tab is answered without storing anything.
Rule from: issue 13 point 4 ("every submit counts once"); OWASP ASVS 5 V11 (business logic: the
same request processed once).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from gazportal.db import write_session
from gazportal.models.auth import UsedSubmission

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

KEEP = timedelta(days=1)  # a repeat comes within seconds; a day is plenty
MAX_ID = 64


def use(engine: "Engine", submission_id: str, *, now: datetime) -> bool:
    """Record ``submission_id`` (a non-empty string of at most 64 characters) as used at ``now``
    (aware UTC). True the first time, False for every later use of the same id. Ids older than
    :data:`KEEP` are removed on the way. Raises ValueError for an empty or too long id."""
    if not submission_id or len(submission_id) > MAX_ID:
        raise ValueError("a submission id is 1 to 64 characters")
    try:
        with write_session(engine) as s:
            s.execute(sa.delete(UsedSubmission).where(col(UsedSubmission.used_at) < now - KEEP))
            s.add(UsedSubmission(id=submission_id, used_at=now))
            s.flush()
    except IntegrityError:
        return False
    return True
