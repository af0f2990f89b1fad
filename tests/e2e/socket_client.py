"""A client that speaks Reflex's socket.io protocol to the running portal, as an attacker's script
(or a load test) would: python-socketio on ``/_event``, the client token in the URL, the
hydrate event in the connect ``auth``, the session cookie (if any) in the handshake headers.

Waits follow what the server does: :meth:`Tab.send` ends when the answer to a **marker** event
sent after it arrives (a client's events are processed one after another, so every event before
the marker has been answered or dropped by then), never after a fixed time.
"""
from __future__ import annotations

import asyncio
import json
import re
import urllib.request
import uuid
from typing import Any

# The state classes are made here, at import, in the test's main thread: Reflex registers a State
# class in a context variable, which a worker thread running the client's event loop does not have.
from gazportal.state.messages import MessagesState  # noqa: E402
from gazportal.state.signin import SignInState  # noqa: E402

HYDRATE = "reflex___state____state.hydrate_and_load"
WAIT = 30.0  # the longest any answer may take on a busy 2-core machine


def _marker_name() -> str:
    """A public handler whose answer carries a value we choose (the subject counter of the
    message form), so its answer cannot be mistaken for any other."""
    return f"{MessagesState.get_full_name()}.count_subject"


def _marker_var() -> str:
    return f"{MessagesState.get_full_name()}.subject_len"


class Tab:
    """One browser tab's connection: ``token`` keys its server-side state."""

    def __init__(self, url: str, *, token: str | None = None, cookie: str = "", path: str = "/") -> None:
        self.url, self.token, self.cookie, self.path = url, token or str(uuid.uuid4()), cookie, path
        self.replies: list[dict] = []
        self.sio: Any = None
        self._arrived = asyncio.Event()
        self._marks = 0

    def _on_event(self, data: Any) -> None:
        self.replies.append(data if isinstance(data, dict) else {"raw": data})
        self._arrived.set()

    async def connect(self, boot_payload: Any = None) -> list[dict]:
        """Connect and hydrate; returns the hydrate's answers (the whole state as the tab sees it).
        ``boot_payload``: another payload for the hydrate in the connect packet (an attacker's):
        then no answer is waited for."""
        import socketio

        self.sio = socketio.AsyncClient(reconnection=False)
        self.sio.on("event", self._on_event, namespace="/_event")
        boot = {"name": HYDRATE, "payload": {} if boot_payload is None else boot_payload,
                "router_data": self._router()}
        headers = {"Cookie": self.cookie, "Origin": self.url} if self.cookie else {"Origin": self.url}
        await self.sio.connect(f"{self.url}?token={self.token}", socketio_path="/_event", namespaces=["/_event"],
                               transports=["websocket"], auth={"event": boot}, headers=headers, wait_timeout=WAIT)
        if boot_payload is not None:
            return []
        await self._until(lambda: len(self.replies) > 0)
        await self.settle()  # the page's on_load steps, queued by the hydrate, are done too
        return list(self.replies)

    def _router(self) -> dict:
        return {"pathname": self.path, "query": {}, "asPath": self.path}

    async def _until(self, done, start: int = 0) -> list[dict]:
        loop = asyncio.get_running_loop()
        end = loop.time() + WAIT
        while not done():
            self._arrived.clear()
            left = end - loop.time()
            if left <= 0:
                raise TimeoutError(f"no answer from the portal in {WAIT:.0f} s")
            try:
                await asyncio.wait_for(self._arrived.wait(), left)
            except asyncio.TimeoutError:
                pass
        return self.replies[start:]

    async def emit(self, name: Any, payload: Any, router_data: Any = None) -> None:
        """Send one event as it comes, without waiting (anything goes: this is the attacker's side)."""
        await self.sio.emit("event", {"name": name, "payload": payload,
                                      "router_data": router_data if router_data is not None else self._router()},
                            namespace="/_event")

    async def emit_raw(self, data: Any) -> None:
        await self.sio.emit("event", data, namespace="/_event")

    async def send_packet(self, text: str) -> None:
        """Send one Socket.IO packet as written (``2/_event,...``: an event), JSON or not."""
        await self.sio.eio.send(text)

    async def settle(self) -> list[dict]:
        """Wait until everything sent so far is processed: send the marker (a length other than
        the last one sent on this tab), wait for its answer."""
        self._marks += 1
        mark = self._mark()
        start = len(self.replies)
        await self.emit(_marker_name(), {"value": "m" * mark})
        return await self._until(lambda: any(_is_mark(r, mark) for r in self.replies[start:]), start)

    async def send(self, name: str, payload: dict) -> list[dict]:
        """Send one event and return every answer that came before the marker's."""
        start = len(self.replies)
        await self.emit(name, payload)
        await self.settle()
        return [r for r in self.replies[start:] if not _is_mark(r, self._mark())]

    def _mark(self) -> int:
        """The length of this tab's current marker (each differs from the one before, within the
        form's limit, so each gets an answer)."""
        return 10 + self._marks % 400

    async def close(self) -> None:
        if self.sio is not None:
            await self.sio.disconnect()


def _is_mark(reply: dict, mark: int) -> bool:
    return any(v == mark for k, v in deltas([reply]).items() if k.startswith(_marker_var()))


def deltas(replies: list[dict]) -> dict[str, Any]:
    """Every var the answers set, as ``<state>.<var>`` -> last value."""
    out: dict[str, Any] = {}
    for r in replies:
        for state, values in (r.get("delta") or {}).items():
            if isinstance(values, dict):
                for k, v in values.items():
                    out[f"{state}.{k}"] = v
    return out


def redirects(replies: list[dict]) -> list[str]:
    return [e.get("payload", {}).get("path") for r in replies for e in r.get("events") or []
            if isinstance(e, dict) and e.get("name") == "_redirect"]


def hand_over_code(replies: list[dict]) -> str | None:
    """The one-time code a sign-in answer posts to /_gp/session."""
    for r in replies:
        for e in r.get("events") or []:
            js = (e.get("payload") or {}).get("javascript_code", "") if isinstance(e, dict) else ""
            m = re.search(r'code\\": \\"([A-Za-z0-9_-]{20,})', js if isinstance(js, str) else "")
            if m:
                return m.group(1)
    return None


def claim_cookie(url: str, code: str) -> str:
    """POST the hand-over code as the page does; returns the ``gp_session=...`` cookie pair."""
    req = urllib.request.Request(f"{url}/_gp/session", data=json.dumps({"code": code}).encode(), method="POST",
                                 headers={"Content-Type": "application/json", "Origin": url})
    with urllib.request.urlopen(req, timeout=WAIT) as r:
        set_cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=Strict" in set_cookie, set_cookie
    return set_cookie.split(";")[0]


async def sign_in(url: str, login: str, password: str) -> str:
    """Sign in through the sign-in form's handler and the hand-over endpoint; returns the cookie."""
    tab = Tab(url, path="/signin")
    await tab.connect()
    try:
        start = len(tab.replies)
        await tab.emit(f"{SignInState.get_full_name()}.submit", {"form": {"login": login, "password": password}})
        got = await tab._until(lambda: hand_over_code(tab.replies[start:]) is not None, start)
        code = hand_over_code(got)
    finally:
        await tab.close()
    assert code is not None
    return claim_cookie(url, code)
