"""Text styles the pages share: secondary text that keeps WCAG's 4.5:1 on cards and the page."""

from __future__ import annotations

import reflex as rx

# Radix's step 11 is its accessible low-contrast text; step 10 falls below 4.5:1.
SECONDARY = rx.color("gray", 11)


def muted(*children, size: str = "2", **props) -> rx.Component:
    """Secondary text: hints, dates, subtitles."""
    return rx.text(*children, size=size, color=SECONDARY, **props)


def error_text(*children, size: str = "1", **props) -> rx.Component:
    return rx.text(*children, size=size, color=rx.color("red", 11), **props)


def amount_text(value, **props) -> rx.Component:
    """An amount in figures of even width, so columns of money line up."""
    props.setdefault("size", "2")
    return rx.text(value, font_variant_numeric="tabular-nums", white_space="nowrap", **props)


def two_lines(first, second, *, weight: str = "medium", size: str = "2") -> rx.Component:
    """A main line over a smaller secondary one (a tour over its reference, a card over its
    expiry)."""
    return rx.vstack(
        rx.text(first, weight=weight, size=size),
        muted(second, size="1"),
        spacing="0",
        min_width="0",
    )
