"""Form pieces: labels tied to their inputs so people and screen readers know each field."""

from __future__ import annotations

import reflex as rx


def field_label(text: str, html_for: str) -> rx.Component:
    return rx.el.label(
        text,
        html_for=html_for,
        font_size="var(--font-size-2)",
        font_weight="500",
        color=rx.color("gray", 12),
    )
