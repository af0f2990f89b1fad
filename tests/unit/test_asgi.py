"""The page-address middleware (gazportal/asgi.py) around Starlette's static files, as Reflex
serves the prerendered pages in production."""
from __future__ import annotations

import warnings

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse, RedirectResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from gazportal.asgi import serve_pages_without_slash_redirect

with warnings.catch_warnings():  # Starlette would rather have httpx2; httpx is what Reflex brings
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


@pytest.fixture
def client(tmp_path):
    (tmp_path / "index.html").write_text("home")
    (tmp_path / "accounts").mkdir()
    (tmp_path / "accounts" / "index.html").write_text("accounts page")
    (tmp_path / "404.html").write_text("not found")

    async def old(request):
        return RedirectResponse("/accounts/", status_code=307)

    async def ping(request):
        return PlainTextResponse("pong " + request.method)

    app = Starlette(routes=[Route("/old", old), Route("/ping", ping, methods=["GET", "POST"]),
                            Mount("/", app=StaticFiles(directory=tmp_path, html=True))])
    return TestClient(serve_pages_without_slash_redirect(app), follow_redirects=False)


def test_a_page_is_served_at_the_address_asked_for(client):
    bare = client.get("/accounts")
    assert bare.status_code == 200 and bare.text == "accounts page"
    assert client.get("/accounts/").text == "accounts page"
    assert client.head("/accounts").status_code == 200
    assert client.get("/accounts?x=1").text == "accounts page"


def test_everything_else_is_left_alone(client):
    assert client.get("/").text == "home"
    missing = client.get("/nothing")
    assert missing.status_code == 404 and missing.text == "not found"
    moved = client.get("/old")  # a redirect to another path stays a redirect
    assert moved.status_code == 307 and moved.headers["location"] == "/accounts/"
    assert client.get("/ping").text == "pong GET" and client.post("/ping").text == "pong POST"
