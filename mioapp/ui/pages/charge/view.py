"""The Charge Customer modal: bookings and amount, then a saved card, a new card or a link."""

from __future__ import annotations

import reflex as rx

from mioapp.payments import links
from mioapp.ui.components.badges import overdue_badge
from mioapp.ui.components.forms import checkbox_field, field_label, notice
from mioapp.ui.components.shell import dialog_header
from mioapp.ui.components.stripe_card import stripe_card_field
from mioapp.ui.pages.charge.state import BookingOption, ChargeState, Method
from mioapp.ui.pages.charge.wording import Outcome
from mioapp.ui.pages.customer.state import CardRow


def _bookings_picker() -> rx.Component:
    def option(o: rx.Var[BookingOption]) -> rx.Component:
        chosen = ChargeState.selected.contains(o.id)
        share_id = "share-" + o.id.to_string()
        return rx.hstack(
            rx.el.label(
                rx.hstack(
                    rx.checkbox(
                        checked=chosen,
                        on_change=lambda checked: ChargeState.toggle_booking(o.id, checked),
                        disabled=ChargeState.in_flight,
                    ),
                    rx.vstack(
                        rx.hstack(
                            rx.text(o.tour, weight="medium", size="2"),
                            rx.cond(o.overdue, overdue_badge()),
                            align="center",
                            spacing="2",
                            wrap="wrap",
                        ),
                        rx.text(
                            o.date + " · " + o.reference + " · owes " + o.balance,
                            size="1",
                            color=rx.color("gray", 11),
                        ),
                        spacing="0",
                    ),
                    align="center",
                    spacing="3",
                ),
                cursor="pointer",
                flex="1",
                min_width="0",
            ),
            rx.cond(
                chosen,
                rx.input(
                    rx.input.slot(ChargeState.currency.upper()),
                    id=share_id,
                    value=ChargeState.shares[o.id.to_string()],
                    on_change=lambda value: ChargeState.set_share(o.id, value),
                    input_mode="decimal",
                    size="2",
                    width="128px",
                    disabled=ChargeState.in_flight,
                    aria_label="Part for " + o.reference,
                    aria_invalid=ChargeState.error_field == share_id,
                ),
            ),
            align="center",
            spacing="3",
            width="100%",
            padding="10px 12px",
            border_bottom=f"1px solid {rx.color('gray', 4)}",
        )

    return rx.vstack(
        rx.text("Bookings and what each one gets", size="2", weight="medium"),
        rx.box(
            rx.foreach(ChargeState.options, option),
            border=f"1px solid {rx.color('gray', 5)}",
            border_radius="var(--radius-3)",
            width="100%",
            max_height="240px",
            overflow_y="auto",
            role="group",
            aria_label="Bookings to charge",
        ),
        spacing="1",
        width="100%",
    )


def _amount_fields() -> rx.Component:
    return rx.flex(
        rx.vstack(
            field_label("Amount", "charge-amount"),
            rx.input(
                rx.input.slot(ChargeState.currency.upper()),
                id="charge-amount",
                value=ChargeState.amount_text,
                on_change=ChargeState.set_amount,
                input_mode="decimal",
                width="100%",
                size="3",
                disabled=ChargeState.in_flight,
                aria_invalid=ChargeState.error_field == "amount",
            ),
            rx.text(
                "Lower it for a deposit; change a booking's part to put it where you mean.",
                size="1",
                color=rx.color("gray", 11),
            ),
            spacing="1",
            flex="1",
        ),
        rx.vstack(
            field_label("Description (optional)", "charge-description"),
            rx.input(
                id="charge-description",
                value=ChargeState.description,
                on_change=ChargeState.set_description,
                placeholder="e.g. Balance before the tour",
                width="100%",
                size="3",
                max_length=500,
                disabled=ChargeState.in_flight,
            ),
            spacing="1",
            flex="1",
        ),
        gap="3",
        direction=rx.breakpoints(initial="column", sm="row"),
        width="100%",
    )


def _saved_cards() -> rx.Component:
    def item(c: rx.Var[CardRow]) -> rx.Component:
        return rx.el.label(
            rx.hstack(
                rx.radio_group.item(value=c.id.to_string(), disabled=c.expired),
                rx.icon("credit-card", size=16),
                rx.text(c.brand + " •••• " + c.last4, weight="medium", size="2"),
                rx.text("Expires " + c.expiry, size="1", color=rx.color("gray", 10)),
                rx.cond(c.is_default, rx.badge("Default", variant="soft", radius="full")),
                rx.cond(
                    c.expired,
                    rx.badge("Expired", color_scheme="red", variant="soft", radius="full"),
                ),
                rx.cond(
                    c.declined != "",
                    rx.badge(c.declined, color_scheme="red", variant="soft", radius="full"),
                ),
                spacing="2",
                align="center",
            ),
            padding="8px 12px",
            border=f"1px solid {rx.color('gray', 5)}",
            border_radius="var(--radius-3)",
            opacity=rx.cond(c.expired, "0.55", "1"),
            display="block",
        )

    return rx.cond(
        ChargeState.cards.length() > 0,
        rx.radio_group.root(
            rx.vstack(rx.foreach(ChargeState.cards, item), spacing="2", width="100%"),
            value=ChargeState.card_id,
            on_change=ChargeState.set_card,
            disabled=ChargeState.in_flight,
            aria_label="Saved cards",
            width="100%",
        ),
        notice(
            "This customer has no saved card. Charge a new card or send a payment link.",
            "info",
            "gray",
            role="note",
        ),
    )


def _new_card() -> rx.Component:
    return rx.vstack(
        rx.text("Card details", size="2", weight="medium"),
        stripe_card_field(
            publishable_key=ChargeState.publishable_key,
            client_secret=ChargeState.client_secret,
            on_change=ChargeState.card_changed,
            on_result=ChargeState.card_confirmed,
        ),
        rx.cond(
            ChargeState.card_message != "",
            rx.text(ChargeState.card_message, size="1", color=rx.color("red", 11), role="alert"),
        ),
        rx.text(
            "Card details go straight to Stripe; they never touch MioCommerce.",
            size="1",
            color=rx.color("gray", 10),
        ),
        checkbox_field(
            "Save card for future charges",
            ChargeState.save_card,
            ChargeState.set_save_card,
            disabled=ChargeState.in_flight,
        ),
        spacing="2",
        width="100%",
    )


def _payment_link() -> rx.Component:
    return rx.vstack(
        rx.text(
            "The customer gets an email with a Complete Payment button and pays on a secure "
            "page; they can save their card there.",
            size="2",
            color=rx.color("gray", 11),
        ),
        rx.vstack(
            field_label("Expires after (days)", "link-expiry"),
            rx.input(
                id="link-expiry",
                type="number",
                min=1,
                max=links.MAX_EXPIRY_DAYS,
                value=ChargeState.expiry_days,
                on_change=ChargeState.set_expiry_days,
                size="3",
                width="120px",
                disabled=ChargeState.in_flight,
            ),
            spacing="1",
        ),
        rx.vstack(
            field_label("Personal message (optional)", "link-message"),
            rx.text_area(
                id="link-message",
                value=ChargeState.link_message,
                on_change=ChargeState.set_link_message,
                placeholder="e.g. Looking forward to seeing you on the water!",
                max_length=links.MAX_MESSAGE,
                width="100%",
                rows="3",
                disabled=ChargeState.in_flight,
            ),
            spacing="1",
            width="100%",
        ),
        spacing="3",
        width="100%",
    )


def _outcome_messages() -> rx.Component:
    return rx.fragment(
        rx.cond(
            ChargeState.error != "",
            rx.cond(
                ChargeState.outcome == Outcome.DECLINED,
                notice(
                    ChargeState.error,
                    "circle-alert",
                    "red",
                    rx.button(
                        rx.icon("send", size=14),
                        "Send a payment link instead",
                        size="2",
                        variant="soft",
                        color_scheme="red",
                        on_click=ChargeState.offer_payment_link,
                        width="fit-content",
                    ),
                ),
                notice(ChargeState.error, "circle-alert", "red"),
            ),
        ),
        rx.cond(
            ChargeState.outcome == Outcome.REQUIRES_ACTION,
            notice(
                "The customer's bank wants them to confirm this payment themselves "
                "(Strong Customer Authentication). Nothing was charged. Send them a "
                "payment link so they can approve it.",
                "shield-alert",
                "violet",
                rx.button(
                    rx.icon("send", size=14),
                    "Send a payment link instead",
                    size="2",
                    variant="soft",
                    color_scheme="violet",
                    on_click=ChargeState.offer_payment_link,
                    width="fit-content",
                ),
            ),
        ),
        rx.cond(
            ChargeState.duplicate_warning != "",
            notice(
                ChargeState.duplicate_warning,
                "triangle-alert",
                "amber",
                checkbox_field(
                    "Yes, charge this amount again",
                    ChargeState.confirm_duplicate,
                    ChargeState.set_confirm_duplicate,
                ),
            ),
        ),
    )


def _method_tabs() -> rx.Component:
    return rx.tabs.root(
        rx.tabs.list(
            rx.tabs.trigger("Card on file", value=Method.CARD_ON_FILE),
            rx.tabs.trigger("New card", value=Method.NEW_CARD),
            rx.tabs.trigger("Payment link", value=Method.PAYMENT_LINK),
            size="2",
        ),
        rx.box(
            rx.tabs.content(_saved_cards(), value=Method.CARD_ON_FILE),
            rx.tabs.content(_new_card(), value=Method.NEW_CARD),
            rx.tabs.content(_payment_link(), value=Method.PAYMENT_LINK),
            padding_top="12px",
        ),
        value=ChargeState.method,
        on_change=ChargeState.set_method,
        width="100%",
    )


def charge_dialog() -> rx.Component:
    """The Charge Customer button and the modal it opens."""
    return rx.dialog.root(
        rx.button(
            rx.icon("credit-card", size=18),
            "Charge Customer",
            size="3",
            disabled=~ChargeState.stripe_connected | ~ChargeState.owes,
            on_click=ChargeState.open_charge,
        ),
        rx.dialog.content(
            rx.vstack(
                dialog_header("Charge " + ChargeState.customer.name),
                rx.dialog.description(
                    "Choose the bookings and amount, then how to charge.",
                    size="2",
                    color=rx.color("gray", 10),
                ),
                _bookings_picker(),
                _amount_fields(),
                _method_tabs(),
                _outcome_messages(),
                rx.cond(
                    ChargeState.summary != "",
                    rx.text(
                        ChargeState.summary,
                        size="2",
                        weight="medium",
                        role="status",
                        aria_label="Charge summary",
                    ),
                ),
                rx.cond(
                    ChargeState.blocked_reason != "",
                    rx.text(
                        ChargeState.blocked_reason,
                        size="2",
                        color=rx.color("gray", 11),
                        id="charge-blocked-reason",
                        text_align="right",
                        width="100%",
                    ),
                ),
                rx.hstack(
                    rx.dialog.close(
                        rx.button("Cancel", variant="soft", color_scheme="gray", size="3")
                    ),
                    rx.cond(
                        ChargeState.method == Method.PAYMENT_LINK,
                        rx.button(
                            rx.icon("send", size=16),
                            "Send Payment Link",
                            size="3",
                            disabled=~ChargeState.can_submit,
                            loading=ChargeState.in_flight,
                            on_click=ChargeState.send_link,
                        ),
                        rx.button(
                            ChargeState.charge_label,
                            size="3",
                            disabled=~ChargeState.can_submit,
                            loading=ChargeState.in_flight,
                            on_click=ChargeState.submit_charge,
                        ),
                    ),
                    justify="end",
                    width="100%",
                    spacing="3",
                ),
                spacing="4",
                width="100%",
            ),
            max_width="600px",
            # On a phone the modal fits the screen and scrolls inside itself.
            max_height="calc(100dvh - 32px)",
            overflow_y="auto",
        ),
        # Only on the page of the customer it was opened for (the form is theirs).
        open=ChargeState.is_open & (ChargeState.opened_for == ChargeState.customer.id),
        on_open_change=ChargeState.set_open,
    )
