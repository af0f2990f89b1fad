"""Personal accounts: which ones a customer sees, how they add and remove them, the address
directory they pick from, and requests to re-register an account to a new owner.

One module per concern; this package re-exports the public names, so callers keep writing
``from gazportal.services import accounts as svc`` and ``svc.link_by_payment(...)``:

* :mod:`.linking` — the customer's list, ``require_account`` (ownership), adding by payment or by
  address (with the per-customer lock), removing;
* :mod:`.holders` — the proof of an account (every way of gaining one), the room for one more
  portal user, the earlier holders told, taking the access away from a later one;
* :mod:`.directory` — branch -> settlement -> street -> house -> flat;
* :mod:`.reregistration` — re-registration requests and their documents;
* :mod:`._base` — what they share (the customer, the visible accounts, the card, field errors).
"""
from __future__ import annotations

from gazportal.services.accounts._base import AccountCard
from gazportal.services.accounts.holders import (
    HolderNotRemovable, HolderRow, HoldersFull, RemovedByHolder, other_holders, remove_holder,
)
from gazportal.services.accounts.directory import Option, branches, flats, houses, settlements, streets
from gazportal.services.accounts.linking import (
    LINK_FAILURE_WINDOW, LINK_LOCK_MINUTES, LINK_POLICY, MAX_LINK_FAILURES, AccountAlreadyLinked, AccountsFixed,
    LinkAttemptsExceeded, LinkMethodUnavailable, can_add_accounts, latest_payment, link_attempts_left,
    link_by_address, link_by_payment, list_accounts, require_account, unlink,
)
from gazportal.services.accounts.reregistration import (
    MAX_COMMENT, MAX_DOCUMENT_BYTES, MAX_DOCUMENTS, MAX_FILENAME, MAX_OPEN_REQUESTS, MAX_OWNER_NAME,
    REQUEST_STATUSES, STAFF_TRANSITIONS, DocumentInfo, DocumentNotFound, RequestInfo, RequestNotEditable,
    RequestNotFound, add_document, create_request, detect_document_type, document_path, list_requests,
    remove_document, sanitize_filename, set_request_status, submit_request,
)
from gazportal.services.errors import AccountNotFound

__all__ = [
    "LINK_FAILURE_WINDOW", "LINK_LOCK_MINUTES", "LINK_POLICY", "MAX_COMMENT", "MAX_DOCUMENTS", "MAX_DOCUMENT_BYTES",
    "MAX_FILENAME", "MAX_LINK_FAILURES", "MAX_OPEN_REQUESTS", "MAX_OWNER_NAME", "REQUEST_STATUSES",
    "STAFF_TRANSITIONS", "HolderNotRemovable", "HolderRow", "HoldersFull", "RemovedByHolder", "other_holders",
    "remove_holder", "AccountAlreadyLinked", "AccountCard", "AccountNotFound", "AccountsFixed", "DocumentInfo",
    "DocumentNotFound", "LinkAttemptsExceeded", "LinkMethodUnavailable", "Option", "RequestInfo",
    "RequestNotEditable", "RequestNotFound", "add_document", "branches", "can_add_accounts", "create_request",
    "detect_document_type", "document_path", "flats", "houses", "latest_payment", "link_attempts_left",
    "link_by_address", "link_by_payment", "list_accounts", "list_requests", "remove_document", "require_account",
    "sanitize_filename", "set_request_status", "settlements", "streets", "submit_request", "unlink",
]
