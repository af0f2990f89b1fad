"""Frontend error reports (``rx.App(frontend_exception_handler=...)``): one safe log line each.

Reflex hands the handler whatever text a browser reports — through the public state event
``FrontendEventExceptionState.handle_frontend_exception(info, component_stack)`` (only rich markup
escaped; ~20 KB an event was seen, with forged "[Reflex Backend Exception]" lines) and through its
``client_error`` socket event (already sanitised and rate-limited by Reflex). Any client can send
them, so the text is untrusted: it is written as ONE line, control and format characters (new
lines included) escaped, cut at ``MAX_CHARS``, and at most ``PER_CLIENT`` reports a client
(address) and ``IN_TOTAL`` reports in all are logged per ``WINDOW`` seconds; past that, one
warning says that reports are being dropped.
"""
from __future__ import annotations

import logging
import time
import unicodedata

log = logging.getLogger("gazportal.web.frontend")

MAX_CHARS = 500
WINDOW = 60.0
PER_CLIENT = 5
IN_TOTAL = 60


def one_line(text: str, limit: int = MAX_CHARS) -> str:
    """``text`` with every control/format/separator character escaped (``\\n``, ``\\x1b``,
    ``\\u2028``...), cut to ``limit`` characters (an ellipsis says so)."""
    out: list[str] = []
    size = 0
    for ch in text:
        if unicodedata.category(ch)[0] == "C" or ch in "\u2028\u2029":
            piece = ch.encode("unicode_escape").decode("ascii")
        elif ch == "\\":
            piece = "\\\\"
        else:
            piece = ch
        size += len(piece)
        if size > limit:
            out.append("…")
            break
        out.append(piece)
    return "".join(out)


class Budget:
    """How many reports may still be logged: per client and in all, per window."""

    def __init__(self, per_client: int = PER_CLIENT, in_total: int = IN_TOTAL, window: float = WINDOW,
                 clock=time.monotonic) -> None:
        self.per_client, self.in_total, self.window, self.clock = per_client, in_total, window, clock
        self.started = clock()
        self.counts: dict[str, int] = {}
        self.total = 0
        self.dropped = 0

    def take(self, client: str) -> bool:
        now = self.clock()
        if now - self.started >= self.window:
            self.started, self.counts, self.total, self.dropped = now, {}, 0, 0
        if self.total >= self.in_total or self.counts.get(client, 0) >= self.per_client:
            self.dropped += 1
            if self.dropped == 1:
                log.warning("frontend error reports: dropping more than %d a client / %d in all per %.0f s",
                            self.per_client, self.in_total, self.window)
            return False
        self.counts[client] = self.counts.get(client, 0) + 1
        self.total += 1
        return True


_budget = Budget()


def _client() -> str:
    """The reporting client's address, from the event being processed (Reflex's router data);
    reports that arrive outside an event (the client_error socket event) share one budget."""
    try:
        from reflex_base.event.context import EventContext

        ip = EventContext.get().router_data.get("ip")
    except Exception:
        return "-"
    return ip if isinstance(ip, str) and ip else "-"


def log_frontend_exception(exception: Exception) -> None:
    """The app's frontend_exception_handler (Reflex checks the name and annotation)."""
    client = _client()
    if not _budget.take(client):
        return
    log.warning("frontend error from %s: %s", one_line(client, 64), one_line(str(exception)))
