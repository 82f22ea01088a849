"""Layout shorthands with the spacing the app uses everywhere: rows, columns, full-width
stacks, and buttons that lead with an icon."""

from __future__ import annotations

import reflex as rx


def row(*children, gap: str = "3", **props) -> rx.Component:
    """Side by side, centred on one line."""
    props.setdefault("align", "center")
    return rx.hstack(*children, spacing=gap, **props)


def column(*children, gap: str = "1", **props) -> rx.Component:
    """One under the other, aligned to the start (a badge over its notes)."""
    props.setdefault("align", "start")
    return rx.vstack(*children, spacing=gap, **props)


def stack(*children, spacing: str = "4", **props) -> rx.Component:
    """Children one under the other, full width."""
    return rx.vstack(*children, spacing=spacing, width="100%", **props)


def icon_button(icon: str, label, *, icon_size: int = 16, **props) -> rx.Component:
    """A button with an icon before its words; soft grey unless told otherwise."""
    props.setdefault("variant", "soft")
    props.setdefault("color_scheme", "gray")
    return rx.button(rx.icon(icon, size=icon_size), label, **props)
