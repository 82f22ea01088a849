"""Form pieces: labelled inputs, so people and screen readers know each field."""

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


def text_field(label: str, name: str, *, hint: str = "", **input_props) -> rx.Component:
    """A label, an uncontrolled input named `name` (read from the form's submit data), a hint."""
    return rx.vstack(
        field_label(label, name),
        rx.input(id=name, name=name, size="3", width="100%", **input_props),
        rx.cond(hint != "", rx.text(hint, size="1", color=rx.color("gray", 10))),
        spacing="1",
        width="100%",
    )
