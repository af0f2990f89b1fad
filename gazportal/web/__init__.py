"""The web server around the Reflex app: limits and headers (``guard``), the page routes in one
table (``routes``), frontend error reports (``frontend_errors``) and the connection notice
(``connection``). ``gazportal/asgi.py`` serves pages without the slash redirect."""
