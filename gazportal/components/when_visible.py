"""``when_visible(child, ...)``: the child is rendered only once it comes into the viewport.

For what is heavy and below the fold: /statistics' plotly charts (the plotly script is 355 KB gzip
and drawing three charts blocks a slow phone's main thread for about a second) are loaded and drawn
when the customer scrolls to them, not on every visit of the page. The wrapper (a ``div`` with the
given props; ``data-shown`` tells whether the child is there) keeps its height meanwhile, so nothing
below it moves. Source: when_visible.jsx beside this file.
"""
from __future__ import annotations

import reflex as rx


class WhenVisible(rx.Component):
    library = "$/public" + rx.asset("when_visible.jsx", shared=True)
    tag = "WhenVisible"


when_visible = WhenVisible.create
