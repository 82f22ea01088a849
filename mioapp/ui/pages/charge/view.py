"""The Charge Customer modal: bookings and amount, then a saved card, a new card or a link."""

from __future__ import annotations

import reflex as rx

from mioapp.payments import links
from mioapp.ui import styles
from mioapp.ui.components.badges import overdue_badge, saved_card_line
from mioapp.ui.components.forms import checkbox_field, labelled, notice
from mioapp.ui.components.layout import column, icon_button, row, stack
from mioapp.ui.components.shell import dialog_header, fit_dialog
from mioapp.ui.components.stripe_card import card_entry
from mioapp.ui.components.text import muted
from mioapp.ui.pages.charge.form import BookingOption, Method
from mioapp.ui.pages.charge.state import ChargeState
from mioapp.ui.pages.charge.wording import Outcome
from mioapp.ui.pages.customer.rows import CardRow

# Focus goes back to this button when the modal closes.
CHARGE_BUTTON_ID = "charge-customer"


def _bookings_picker() -> rx.Component:
    def option(o: rx.Var[BookingOption]) -> rx.Component:
        chosen = ChargeState.selected.contains(o.id)
        share_id = "share-" + o.id.to_string()
        return row(
            rx.el.label(
                rx.hstack(
                    rx.checkbox(
                        checked=chosen,
                        on_change=lambda checked: ChargeState.toggle_booking(o.id, checked),
                        disabled=ChargeState.in_flight,
                        aria_label=o.tour + ", " + o.reference,
                    ),
                    column(
                        row(
                            rx.text(o.tour, weight="medium", size="2"),
                            rx.cond(o.overdue, overdue_badge()),
                            gap="2",
                            wrap="wrap",
                        ),
                        muted(o.date + " · " + o.reference + " · owes " + o.balance, size="1"),
                        gap="0",
                        min_width="0",
                    ),
                    align="center",
                    spacing="3",
                ),
                cursor="pointer",
                **styles.FILL,
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
                    width=rx.breakpoints(initial="112px", sm="128px"),
                    flex_shrink="0",
                    disabled=ChargeState.in_flight,
                    aria_label="Part for " + o.reference,
                    aria_invalid=ChargeState.error_field == share_id,
                ),
            ),
            padding="10px 12px",
            **styles.LIST_LINE,
        )

    return stack(
        rx.text("Bookings and what each one gets", size="2", weight="medium"),
        rx.box(
            rx.foreach(ChargeState.options, option),
            max_height="240px",
            overflow_y="auto",
            role="group",
            aria_label="Bookings to charge",
            **styles.FRAMED,
        ),
        spacing="1",
    )


def _input(id_: str, value, on_change, *children, component=rx.input, **props):
    """A field of the form: disabled while a submit is in flight."""
    props.setdefault("size", "3")
    props.setdefault("width", "100%")
    return component(
        *children,
        id=id_,
        value=value,
        on_change=on_change,
        disabled=ChargeState.in_flight,
        **props,
    )


def _amount_fields() -> rx.Component:
    return rx.flex(
        labelled(
            "Amount",
            "charge-amount",
            _input(
                "charge-amount",
                ChargeState.amount_text,
                ChargeState.set_amount,
                rx.input.slot(ChargeState.currency.upper()),
                input_mode="decimal",
                aria_invalid=ChargeState.error_field == "amount",
            ),
            muted(
                "Lower it for a deposit; change a booking's part to put it where you mean.",
                size="1",
            ),
            flex="1",
        ),
        labelled(
            "Description (optional)",
            "charge-description",
            _input(
                "charge-description",
                ChargeState.description,
                ChargeState.set_description,
                placeholder="e.g. Balance before the tour",
                max_length=500,
            ),
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
                rx.icon("credit-card", size=16, flex_shrink="0"),
                saved_card_line(c),
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
    return stack(
        card_entry(ChargeState, "Card details"),
        muted("Card details go straight to Stripe; they never touch MioCommerce.", size="1"),
        checkbox_field(
            "Save card for future charges",
            ChargeState.save_card,
            ChargeState.set_save_card,
            disabled=ChargeState.in_flight,
        ),
        spacing="2",
    )


def _payment_link() -> rx.Component:
    return stack(
        muted(
            "The customer gets an email with a Complete Payment button and pays on a secure "
            "page; they can save their card there."
        ),
        labelled(
            "Expires after (days)",
            "link-expiry",
            _input(
                "link-expiry",
                ChargeState.expiry_days,
                ChargeState.set_expiry_days,
                type="number",
                min=1,
                max=links.MAX_EXPIRY_DAYS,
                width="120px",
            ),
        ),
        labelled(
            "Personal message (optional)",
            "link-message",
            _input(
                "link-message",
                ChargeState.link_message,
                ChargeState.set_link_message,
                placeholder="e.g. Looking forward to seeing you on the water!",
                max_length=links.MAX_MESSAGE,
                rows="3",
                component=rx.text_area,
            ),
        ),
        spacing="3",
    )


def _offer_link(color: str) -> rx.Component:
    """The next step after a decline or a bank's demand for authentication."""
    return icon_button(
        "send",
        "Send a payment link instead",
        icon_size=14,
        color_scheme=color,
        on_click=ChargeState.offer_payment_link,
        width="fit-content",
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
                    _offer_link("red"),
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
                _offer_link("violet"),
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


def _footer() -> rx.Component:
    submit = {
        "size": "3",
        "disabled": ~ChargeState.can_submit,
        "loading": ChargeState.in_flight,
    }
    return row(
        rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", size="3")),
        rx.cond(
            ChargeState.method == Method.PAYMENT_LINK,
            rx.button(
                rx.icon("send", size=16),
                "Send Payment Link",
                on_click=ChargeState.send_link,
                **submit,
            ),
            rx.button(ChargeState.charge_label, on_click=ChargeState.submit_charge, **submit),
        ),
        justify="end",
        width="100%",
    )


def charge_dialog() -> rx.Component:
    """The Charge Customer button and the modal it opens."""
    return rx.dialog.root(
        rx.button(
            rx.icon("credit-card", size=18),
            "Charge Customer",
            id=CHARGE_BUTTON_ID,
            size="3",
            disabled=~ChargeState.stripe_connected | ~ChargeState.owes,
            on_click=ChargeState.open_charge,
        ),
        rx.dialog.content(
            stack(
                dialog_header("Charge " + ChargeState.customer.name),
                rx.dialog.description(
                    "Choose the bookings and amount, then how to charge.",
                    size="2",
                    color=rx.color("gray", 11),
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
                    muted(
                        ChargeState.blocked_reason,
                        id="charge-blocked-reason",
                        text_align="right",
                        width="100%",
                    ),
                ),
                _footer(),
            ),
            **fit_dialog("600px"),
            # The modal opens from a handler, not a Radix trigger, so Radix would hand focus
            # to the page body on closing: give it back to Charge Customer instead.
            on_close_auto_focus=[rx.prevent_default, rx.set_focus(CHARGE_BUTTON_ID)],
        ),
        # Only on the page of the customer it was opened for (the form is theirs).
        open=ChargeState.is_open & (ChargeState.opened_for == ChargeState.customer.id),
        on_open_change=ChargeState.set_open,
    )
