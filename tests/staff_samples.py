"""Arguments the staff pages send to each staff handler: one list for the unit refusal test
(tests/unit/test_staff_states.py) and the one over the real socket (tests/e2e/test_contract.py).
Valid arguments, so that only the caller's access may refuse them. A staff handler without a
sample here fails both tests: add it when you add the handler."""
from __future__ import annotations

from datetime import UTC, datetime


def staff_sample(cls: type, name: str, *, message_id: str = "1", submission: str = "") -> dict:
    """The payload of ``cls.name`` as its page sends it (``message_id``: a message that exists;
    ``submission``: the state's submission id for create forms). AssertionError when unknown."""
    samples = {
        "load": {}, "export": {},
        "set_status_filter": {"status": "new"}, "set_kind_filter": {"kind": "support"},
        "add": {"form": {"message_id": message_id, "kind": "reply", "body": "An answer", "submission": submission}},
        "move": {"message_id": message_id, "status": "in_progress"},
        "go": {"page": 1},
        "begin": {"what": min(getattr(cls, "BUSY_NAMES", None) or {"x"})},  # a staff form's "please wait"
        # the readings review (state/reviews.py)
        "set_tab": {"tab": "rejected"}, "pick": {"review_id": "1"},
        "decide": {"form": {"review_id": "1", "decision": "reject", "reason": "Not plausible",
                            "submission": submission}},
        "book_late": {"form": {"account": "1", "serial": "S1", "day": "2026-01-10", "value": "100",
                               "reason": "Phoned in", "submission": submission}},
        # the consumption dashboard (state/staff_dashboard.py)
        "set_year": {"year": str(datetime.now(UTC).year)}, "set_service": {"service": "gas"},
        "set_settlement": {"settlement": ""}, "show_missing": {"page": 2},
        # disputes and corrections (state/reviews.py, issue 16 point 6)
        "resolve": {"form": {"dispute_id": "1", "decision": "dismiss", "value": "", "reason": "Photo shows it",
                             "submission": submission}},
        "correct": {"form": {"account": "100000001", "serial": "G-1", "period": "2026-11", "value": "998",
                             "reason": "Misread", "submission": submission}},
        # view as customer (state/view_as.py, issue 16 point 5)
        "open": {"form": {"account": "100000001", "reason": "On the phone", "submission": submission}},
        "close": {}, "relang": {},
    }
    assert name in samples, f"{cls.__name__}.{name}: give this staff handler a sample payload in tests/staff_samples.py"
    return samples[name]
