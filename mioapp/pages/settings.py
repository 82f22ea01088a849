"""Payment settings: connect Stripe with verified keys, see the connection, disconnect."""

from __future__ import annotations

import reflex as rx

from mioapp.components.forms import text_field
from mioapp.components.shell import card, dashboard
from mioapp.payments import connection
from mioapp.payments.gateway import GatewayError
from mioapp.state import MerchantState

# Keys are pasted, never remembered or spell-checked by the browser.
KEY_INPUT = {"auto_complete": "off", "spellcheck": False}
MODE_LABELS = {"live": "Live", "test": "Test mode", "emulator": "Emulator (simulated Stripe)"}


class PaymentSettingsState(MerchantState):
    """Shows the connection; the keys typed in the form only ever travel browser -> server."""

    loaded: bool = False
    connected: bool = False
    source: str = ""
    account_id: str = ""
    account_name: str = ""
    mode: str = ""
    publishable_key: str = ""
    has_webhook_secret: bool = False
    connected_at: str = ""
    error: str = ""
    saving: bool = False

    def _show(self, info: connection.ConnectionInfo) -> None:
        self.loaded = True
        self.connected = info.connected
        self.source = info.source
        self.account_id = info.account_id
        self.account_name = info.account_name
        self.mode = MODE_LABELS.get(info.mode, info.mode)
        self.publishable_key = info.publishable_key
        self.has_webhook_secret = info.has_webhook_secret
        self.connected_at = (
            info.connected_at.strftime("%b %-d, %Y %H:%M UTC") if info.connected_at else ""
        )

    @rx.event
    def load_settings(self):
        if self._merchant_id() is None:
            return self._to_sign_in()
        self.error = ""
        with rx.session() as session:
            self._show(connection.connection_info(session))
        if self.source == "environment":
            try:
                account = connection.environment_account()
            except GatewayError as exc:
                self.error = f"Stripe didn't accept the keys set in the environment: {exc.message}"
            else:
                self.account_id, self.account_name = account.account_id, account.display_name
        return None

    @rx.event
    def connect_stripe(self, form: dict):
        user_id = self._merchant_id()
        if user_id is None:
            return self._to_sign_in()
        if self.saving:
            return None
        secret_key = str(form.get("secret_key", "")).strip()
        publishable_key = str(form.get("publishable_key", "")).strip()
        webhook_secret = str(form.get("webhook_secret", "")).strip()
        if not secret_key or not publishable_key:
            self.error = "Enter both the secret key and the publishable key."
            return None
        self.saving, self.error = True, ""
        yield
        try:
            with rx.session() as session:
                info = connection.connect(
                    session,
                    user_id=user_id,
                    secret_key=secret_key,
                    publishable_key=publishable_key,
                    webhook_secret=webhook_secret or None,
                )
        except GatewayError as exc:
            self.error = f"Stripe didn't accept these keys: {exc.message}"
            return None
        finally:
            self.saving = False
        self._show(info)
        yield rx.toast.success("Stripe connected. You can now charge customers.")

    @rx.event
    def disconnect_stripe(self):
        user_id = self._merchant_id()
        if user_id is None:
            return self._to_sign_in()
        with rx.session() as session:
            if connection.connection_info(session).source != "settings":
                self.error = "This connection comes from environment variables; change it there."
                return None
            connection.disconnect(session, user_id=user_id)
            self._show(connection.connection_info(session))
        return rx.toast.info("Stripe disconnected. Charging is off until you connect again.")


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
