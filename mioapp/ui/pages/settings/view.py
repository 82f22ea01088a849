"""Payment settings: connect Stripe with verified keys, see the connection, disconnect."""

from __future__ import annotations

import reflex as rx

from mioapp.ui.components.forms import text_field
from mioapp.ui.components.shell import card, dashboard
from mioapp.ui.pages.settings.state import PaymentSettingsState

# Keys are pasted, never remembered or spell-checked by the browser.
KEY_INPUT = {"auto_complete": "off", "spellcheck": False}


def _detail(label: str, value: rx.Var | str) -> rx.Component:
    return rx.data_list.item(rx.data_list.label(label), rx.data_list.value(value))


def _connected_card() -> rx.Component:
    S = PaymentSettingsState
    return card(
        rx.vstack(
            rx.hstack(
                rx.center(
                    rx.icon("circle-check", color=rx.color("green", 9)),
                    width="36px",
                    height="36px",
                    border_radius="9999px",
                    background=rx.color("green", 3),
                ),
                rx.vstack(
                    rx.heading("Stripe is connected", size="4"),
                    rx.text("Customers can be charged.", size="2", color=rx.color("gray", 10)),
                    spacing="0",
                ),
                rx.spacer(),
                rx.badge(
                    S.mode,
                    color_scheme=rx.cond(S.mode == "Live", "green", "amber"),
                    variant="soft",
                    radius="full",
                    size="2",
                ),
                width="100%",
                align="center",
                spacing="3",
            ),
            rx.data_list.root(
                rx.cond(S.account_id != "", _detail("Account", S.account_id)),
                rx.cond(S.account_name != "", _detail("Account name", S.account_name)),
                _detail("Publishable key", rx.code(S.publishable_key, variant="ghost")),
                _detail("Secret key", "Stored encrypted · never shown"),
                _detail("Webhook signing secret", rx.cond(S.has_webhook_secret, "Set", "Not set")),
                rx.cond(S.connected_at != "", _detail("Connected", S.connected_at)),
                _detail(
                    "Source",
                    rx.cond(
                        S.source == "environment", "Environment variables", "Connected in Settings"
                    ),
                ),
            ),
            rx.cond(
                S.error != "",
                rx.callout(
                    S.error, icon="circle-alert", color_scheme="red", role="alert", width="100%"
                ),
            ),
            rx.cond(
                S.source == "settings",
                rx.alert_dialog.root(
                    rx.alert_dialog.trigger(
                        rx.button("Disconnect Stripe", color_scheme="red", variant="soft")
                    ),
                    rx.alert_dialog.content(
                        rx.alert_dialog.title("Disconnect Stripe?"),
                        rx.alert_dialog.description(
                            "Nobody can charge customers until Stripe is connected again. "
                            "Past payments stay recorded."
                        ),
                        rx.hstack(
                            rx.alert_dialog.cancel(
                                rx.button("Cancel", variant="soft", color_scheme="gray")
                            ),
                            rx.alert_dialog.action(
                                rx.button(
                                    "Disconnect",
                                    color_scheme="red",
                                    on_click=PaymentSettingsState.disconnect_stripe,
                                )
                            ),
                            justify="end",
                            spacing="3",
                            margin_top="16px",
                        ),
                    ),
                ),
                rx.text(
                    "Set by the server's environment variables; change them there.",
                    size="2",
                    color=rx.color("gray", 10),
                ),
            ),
            spacing="4",
            width="100%",
        )
    )


def _connect_form() -> rx.Component:
    S = PaymentSettingsState
    return card(
        rx.form(
            rx.vstack(
                rx.heading("Connect your Stripe account", size="4"),
                rx.text(
                    "Paste the API keys from your Stripe Dashboard (Developers → API keys). "
                    "We check them with Stripe before saving; the secret key is stored "
                    "encrypted and never shown again.",
                    size="2",
                    color=rx.color("gray", 10),
                ),
                text_field(
                    "Secret key",
                    "secret_key",
                    placeholder="sk_live_… or sk_test_…",
                    hint="Used only by our server to create charges.",
                    type="password",
                    **KEY_INPUT,
                ),
                text_field(
                    "Publishable key",
                    "publishable_key",
                    placeholder="pk_live_… or pk_test_…",
                    hint="Loads Stripe's secure card field in the browser.",
                    type="text",
                    **KEY_INPUT,
                ),
                text_field(
                    "Webhook signing secret (optional)",
                    "webhook_secret",
                    placeholder="whsec_…",
                    hint="Lets us verify payment updates Stripe sends us.",
                    type="password",
                    **KEY_INPUT,
                ),
                rx.cond(
                    S.error != "",
                    rx.callout(
                        S.error, icon="circle-alert", color_scheme="red", role="alert", width="100%"
                    ),
                ),
                rx.button(
                    rx.cond(S.saving, rx.spinner(size="2"), rx.icon("plug", size=16)),
                    rx.cond(S.saving, "Checking keys with Stripe…", "Connect Stripe"),
                    type="submit",
                    size="3",
                    disabled=S.saving,
                ),
                spacing="4",
                width="100%",
                max_width="560px",
            ),
            on_submit=PaymentSettingsState.connect_stripe,
            reset_on_submit=False,
        )
    )


def settings_page() -> rx.Component:
    return dashboard(
        "Settings",
        rx.vstack(
            rx.heading("Payments", size="7"),
            rx.text(
                "Connect Stripe to take card payments from customers.", color=rx.color("gray", 10)
            ),
            spacing="1",
        ),
        rx.cond(
            PaymentSettingsState.loaded,
            rx.cond(PaymentSettingsState.connected, _connected_card(), _connect_form()),
            rx.center(rx.spinner(size="3"), padding="48px", width="100%"),
        ),
    )
