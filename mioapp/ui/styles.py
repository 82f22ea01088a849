"""Shared looks, as style props: frames, lists inside cards, the sidebar."""

from __future__ import annotations

import reflex as rx

LINE = f"1px solid {rx.color('gray', 5)}"

# A bordered box inside a card (a scrolling list, an email preview).
FRAMED = {"border": LINE, "border_radius": "var(--radius-3)", "width": "100%"}

# A child of a row that takes the room left and may shrink below its content's width, so
# long text inside it wraps or is cut instead of widening the page.
FILL = {"flex": "1", "min_width": "0"}

# Text kept to one line, cut with an ellipsis where it does not fit.
ONE_LINE = {"overflow": "hidden", "text_overflow": "ellipsis", "white_space": "nowrap"}

# One line of a list inside a frame or a card.
LIST_LINE = {"width": "100%", "border_bottom": f"1px solid {rx.color('gray', 4)}"}

# The plain-text part of an email, as it reads.
PLAIN_TEXT = {
    "white_space": "pre-wrap",
    "font_family": "var(--code-font-family)",
    "font_size": "13px",
    "margin": "0",
    "padding": "16px",
    "max_height": "60vh",
    "overflow_y": "auto",
    "background": rx.color("gray", 2),
    **FRAMED,
}

SIDEBAR = {
    "width": "240px",
    "min_width": "240px",
    "align_self": "stretch",
    "border_right": LINE,
    "background": rx.color("gray", 1),
}

# The dashboard's content column and its `main` landmark.
PAGE_COLUMN = {
    "width": "100%",
    # Lets wide content shrink inside its cards instead of widening the page.
    "min_width": "0",
    "min_height": "100vh",
}
MAIN = {"padding": ["16px", "24px", "32px"], "width": "100%", "outline": "none"}
