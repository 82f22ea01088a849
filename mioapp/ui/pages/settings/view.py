"""Settings: Payments (connect Stripe with verified keys, see the connection, disconnect)
and Business (the profile customers see, the time zone and locale of every date)."""

from __future__ import annotations

import reflex as rx
from babel import Locale

from mioapp.formatting import time_zones
from mioapp.ui.components.forms import confirm_action, error_notice, text_field
from mioapp.ui.components.layout import row, stack
from mioapp.ui.components.shell import card, dashboard, loading, page_header
from mioapp.ui.components.text import muted
from mioapp.ui.pages.settings.state import BusinessSettingsState, PaymentSettingsState
from mioapp.web import routes

SECTIONS = [("Payments", routes.PAYMENT_SETTINGS), ("Business", routes.BUSINESS_SETTINGS)]
# Offered as suggestions; any locale Babel knows is accepted.
LOCALES = [
    "en_US",
    "en_GB",
    "en_CA",
    "en_AU",
    "en_NZ",
    "en_IE",
    "en_ZA",
    "es_ES",
    "es_MX",
    "es_AR",
    "fr_FR",
    "fr_CA",
    "de_DE",
    "de_AT",
    "de_CH",
    "it_IT",
    "pt_PT",
    "pt_BR",
    "nl_NL",
    "sv_SE",
    "da_DK",
    "nb_NO",
    "fi_FI",
    "pl_PL",
    "el_GR",
    "tr_TR",
    "ja_JP",
    "th_TH",
    "id_ID",
    "is_IS",
]

# Keys are pasted, never remembered or spell-checked by the browser.
KEY_INPUT = {"auto_complete": "off", "spellcheck": False}


def _form_heading(title: str, intro: str) -> rx.Component:
    return rx.vstack(rx.heading(title, as_="h2", size="4"), muted(intro), spacing="2")


def _detail(label: str, value: rx.Var | str) -> rx.Component:
    return rx.data_list.item(rx.data_list.label(label), rx.data_list.value(value))


def _connected_card() -> rx.Component:
    S = PaymentSettingsState
    return card(
        rx.vstack(
            row(
                rx.center(
                    rx.icon("circle-check", color=rx.color("green", 9)),
                    width="36px",
                    height="36px",
                    border_radius="9999px",
                    background=rx.color("green", 3),
                ),
                rx.vstack(
                    rx.heading("Stripe is connected", as_="h2", size="4"),
                    muted("Customers can be charged."),
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
            error_notice(S.error),
            rx.cond(
                S.source == "settings",
                confirm_action(
                    rx.button("Disconnect Stripe", color_scheme="red", variant="soft"),
                    "Disconnect Stripe?",
                    "Nobody can charge customers until Stripe is connected again. "
                    "Past payments stay recorded.",
                    "Disconnect",
                    PaymentSettingsState.disconnect_stripe,
                ),
                muted("Set by the server's environment variables; change them there."),
            ),
            spacing="4",
            width="100%",
        )
    )


def _submit(saving, icon: str, label) -> rx.Component:
    """The form's button: a spinner in place of its icon while the server works."""
    return rx.button(
        rx.cond(saving, rx.spinner(size="2"), rx.icon(icon, size=16)),
        label,
        type="submit",
        size="3",
        disabled=saving,
    )


def _settings_form(on_submit, max_width: str, *fields: rx.Component, **form_props):
    """A card holding a form the server checks; what was typed stays after a submit."""
    return card(
        rx.form(
            stack(*fields, max_width=max_width),
            on_submit=on_submit,
            reset_on_submit=False,
            **form_props,
        )
    )


def _connect_form() -> rx.Component:
    saving = PaymentSettingsState.saving
    button = _submit(
        saving, "plug", rx.cond(saving, "Checking keys with Stripe…", "Connect Stripe")
    )
    return _settings_form(
        PaymentSettingsState.connect_stripe,
        "560px",
        _form_heading(
            "Connect your Stripe account",
            "Paste the API keys from your Stripe Dashboard (Developers → API keys). "
            "We check them with Stripe before saving; the secret key is stored "
            "encrypted and never shown again.",
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
        error_notice(PaymentSettingsState.error),
        button,
    )


def _sections(active: str) -> rx.Component:
    """The Settings pages, side by side: each is a route of its own."""
    return rx.el.nav(
        rx.hstack(
            *[
                rx.link(
                    label,
                    href=href,
                    underline="none",
                    weight="medium",
                    size="2",
                    padding="6px 14px",
                    border_radius="9999px",
                    color=rx.color("gray", 12) if label == active else rx.color("gray", 11),
                    background=rx.color("accent", 4) if label == active else "transparent",
                    _hover={"background": rx.color("gray", 4)},
                    aria_current="page" if label == active else None,
                )
                for label, href in SECTIONS
            ],
            spacing="1",
        ),
        aria_label="Settings sections",
    )


def _settings_page(active: str, subtitle: str, loaded, body: rx.Component) -> rx.Component:
    return dashboard(
        "Settings",
        _sections(active),
        page_header(active, subtitle),
        rx.cond(loaded, body, loading()),
    )


def settings_page() -> rx.Component:
    S = PaymentSettingsState
    return _settings_page(
        "Payments",
        "Connect Stripe to take card payments from customers.",
        S.loaded,
        rx.cond(S.connected, _connected_card(), _connect_form()),
    )


def _pair(*fields: rx.Component) -> rx.Component:
    """Two fields side by side, one under the other on a phone."""
    return rx.grid(*fields, columns=rx.breakpoints(initial="1", sm="2"), spacing="4", width="100%")


def _choices(list_id: str, options: list[tuple[str, str]]) -> rx.Component:
    return rx.el.datalist(
        *[rx.el.option(label, value=value) for value, label in options], id=list_id
    )


def _profile_field(label: str, name: str, **props) -> rx.Component:
    """A profile field: starts from the saved value, says what is wrong under itself."""
    S = BusinessSettingsState
    return text_field(
        label, name, default_value=getattr(S.saved, name), error=getattr(S.errors, name), **props
    )


def _business_form() -> rx.Component:
    S = BusinessSettingsState
    return _settings_form(
        S.save_business,
        "640px",
        _form_heading(
            "Business profile",
            "Customers see this on the pay page, receipts and emails, with a way to "
            "reach you. Every date is shown in the time zone, and dates and amounts "
            "are written the way the locale writes them.",
        ),
        _profile_field("Business name", "name"),
        _pair(
            _profile_field("Contact email", "email", type="email", auto_complete="email"),
            _profile_field(
                "Contact phone (optional)",
                "phone",
                type="tel",
                placeholder="+1 808 555 0134",
                auto_complete="tel",
            ),
        ),
        _profile_field(
            "Reply-to address (optional)",
            "reply_to",
            type="email",
            hint="Where customers' replies to emails go; empty means the contact email.",
        ),
        _pair(
            _profile_field(
                "Time zone",
                "time_zone",
                hint="An IANA zone, such as America/New_York or Europe/Lisbon.",
                auto_complete="off",
                custom_attrs={"list": "time-zone-choices"},
            ),
            _profile_field(
                "Locale",
                "locale",
                hint="How dates and amounts are written: en_US, de_DE, pt_BR…",
                auto_complete="off",
                custom_attrs={"list": "locale-choices"},
            ),
        ),
        _choices("time-zone-choices", [(zone, zone) for zone in sorted(time_zones().values())]),
        _choices(
            "locale-choices",
            [(code, Locale.parse(code).get_display_name("en")) for code in LOCALES],
        ),
        muted(S.sample, role="status"),
        _submit(S.saving, "save", "Save business profile"),
        # The server checks every field and says what is wrong next to it; the
        # browser's own bubbles would show one field at a time, in its words.
        no_validate=True,
        # A new version of the saved values starts the inputs again from them; a refused
        # save keeps the version, so nothing typed is lost.
        key=S.form_version,
    )


def business_settings_page() -> rx.Component:
    return _settings_page(
        "Business",
        "Who you are to your customers, and the time zone and locale of every date and amount.",
        BusinessSettingsState.loaded,
        _business_form(),
    )
