"""Form pieces: labelled inputs and checkboxes, confirmations, and the notices that answer a
form."""

from __future__ import annotations

import re

import reflex as rx

from mioapp.ui.components.text import error_text, muted


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


def labelled(
    label: str, html_for: str, control: rx.Component, *below: rx.Component, **props
) -> rx.Component:
    """A label over its control (whose id is `html_for`), then hints or errors."""
    props.setdefault("width", "100%")
    return rx.vstack(field_label(label, html_for), control, *below, spacing="1", **props)


def text_field(
    label: str, name: str, *, hint: str = "", error: rx.Var[str] | None = None, **input_props
) -> rx.Component:
    """A label, an uncontrolled input named `name` (read from the form's submit data), a hint.

    With `error` (a state var, "" when the value is fine), what is wrong shows under the
    input, which is marked invalid and described by it; the typed value stays.
    """
    extra = []
    if error is not None:
        input_props.setdefault("aria_invalid", rx.cond(error != "", "true", "false"))
        input_props.setdefault("aria_describedby", f"{name}-error")
        extra.append(error_text(error, id=f"{name}-error", role="alert"))
    if hint:
        extra.append(muted(hint, size="1"))
    return labelled(
        label, name, rx.input(id=name, name=name, size="3", width="100%", **input_props), *extra
    )


def checkbox_field(label, checked, on_change, *, hint=None, disabled=False) -> rx.Component:
    """A checkbox inside its label, so the whole line toggles it; named after the label (Radix's
    checkbox is a button, which a wrapping label does not name for every screen reader), an
    optional hint under the label describing it."""
    key = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
    text = rx.text(label, size="2", weight="medium", id=f"{key}-label")
    described = {}
    if hint is not None:
        text = rx.vstack(text, muted(hint, size="1", id=f"{key}-hint"), spacing="0")
        described = {"aria_describedby": f"{key}-hint"}
    return rx.el.label(
        rx.hstack(
            rx.checkbox(
                checked=checked,
                on_change=on_change,
                disabled=disabled,
                margin_top="2px",
                aria_labelledby=f"{key}-label",
                **described,
            ),
            text,
            spacing="2",
            align="start",
        )
    )


def notice(text, icon: str, color: str, *actions: rx.Component, role: str = "alert", **props):
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
        **props,
    )


def error_notice(text) -> rx.Component:
    """A form's error, shown when `text` is not empty."""
    return rx.cond(text != "", notice(text, "circle-alert", "red"))


def confirm_action(
    trigger: rx.Component, title, description, confirm: str, on_confirm
) -> rx.Component:
    """A button that asks first: `trigger` opens an alert dialog whose red `confirm` button
    runs `on_confirm`; Cancel (or Escape) changes nothing."""
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(trigger),
        rx.alert_dialog.content(
            rx.alert_dialog.title(title),
            rx.alert_dialog.description(description, size="2"),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                rx.alert_dialog.action(rx.button(confirm, color_scheme="red", on_click=on_confirm)),
                justify="end",
                spacing="3",
                margin_top="16px",
            ),
            max_width="440px",
        ),
    )


def search_box(value, on_change, *, label: str, placeholder: str, wait_ms: int = 400):
    """A list's search field: large, with a magnifier, sending its text after a pause."""
    return rx.debounce_input(
        rx.input(
            rx.input.slot(rx.icon("search", size=16)),
            placeholder=placeholder,
            value=value,
            on_change=on_change,
            size="3",
            width="100%",
            aria_label=label,
            type="search",
        ),
        debounce_timeout=wait_ms,
    )
