"""Form pieces: labelled inputs and checkboxes, and the notices that answer a form."""

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


class NativeForm(rx.el.Form):
    """A form the browser submits itself, as a plain HTML post (sign-in, sign-out: the server's
    answer sets or clears the HttpOnly cookie); it needs no websocket. Reflex's own form always
    cancels the browser's submit in favour of an event handler, so its `create` is skipped."""

    @classmethod
    def create(cls, *children, **props) -> rx.Component:
        return super(rx.el.Form, cls).create(*children, **props)


def text_field(label: str, name: str, *, hint: str = "", **input_props) -> rx.Component:
    """A label, an uncontrolled input named `name` (read from the form's submit data), a hint."""
    return rx.vstack(
        field_label(label, name),
        rx.input(id=name, name=name, size="3", width="100%", **input_props),
        rx.cond(hint != "", rx.text(hint, size="1", color=rx.color("gray", 10))),
        spacing="1",
        width="100%",
    )


def checkbox_field(label, checked, on_change, *, hint=None, disabled=False) -> rx.Component:
    """A checkbox inside its label, so the whole line toggles it and screen readers name it
    after the label; an optional hint sits under the label."""
    text = rx.text(label, size="2", weight="medium")
    if hint is not None:
        text = rx.vstack(text, rx.text(hint, size="1", color=rx.color("gray", 10)), spacing="0")
    return rx.el.label(
        rx.hstack(
            rx.checkbox(checked=checked, on_change=on_change, disabled=disabled, margin_top="2px"),
            text,
            spacing="2",
            align="start",
        )
    )


def notice(text, icon: str, color: str, *actions: rx.Component, role: str = "alert"):
    """A callout: icon, message, then any actions. `role` tells screen readers whether it
    interrupts (alert), reports (status) or explains (note)."""
    return rx.callout.root(
        rx.callout.icon(rx.icon(icon, size=16)),
        rx.callout.text(text),
        *actions,
        color_scheme=color,
        variant="surface",
        role=role,
        width="100%",
    )
