"""Status badges with one fixed colour per status, used on every page."""

from __future__ import annotations

import reflex as rx

STATUS_COLORS = {
    "Charged in Full": "green",
    "Partially Paid": "amber",
    "Unpaid": "gray",
    "Overpaid": "orange",
    "Refunded": "blue",
    "Partially Refunded": "blue",
    # Payment links
    "Sent": "blue",
    "Opened": "amber",
    "Paid": "green",
    "Expired": "gray",
    "Revoked": "red",
    "succeeded": "green",
    "failed": "red",
    "declined": "red",
    "requires_action": "violet",
    "processing": "amber",
    "unknown": "gray",
    "created": "gray",
    "canceled": "gray",
    "refunded": "blue",
    "partially_refunded": "blue",
    "queued": "amber",
    "sent": "green",
}


def status_badge(status: rx.Var[str]) -> rx.Component:
    return rx.match(
        status,
        *[
            (
                name,
                rx.badge(
                    name.replace("_", " ").capitalize() if name.islower() else name,
                    color_scheme=color,
                    variant="soft",
                    radius="full",
                    size="2",
                ),
            )
            for name, color in STATUS_COLORS.items()
        ],
        rx.badge(status, color_scheme="gray", variant="soft", radius="full", size="2"),
    )
