"""Stripe.js's card Element as a Reflex component; the React side is assets/stripe_card.jsx.

Why a component and not rx.call_script: call_script/call_function run their code through
eval() in the browser, which a Content-Security-Policy without 'unsafe-eval' blocks.

Stripe.js (from settings.stripe_js_url) loads only on pages that contain this field: the
page's module starts the download when it runs, in parallel with hydration, and the field
mounts the card Element once that download has finished. On the pay page the shared code
starts it a little earlier, as a preload (StripeJsHint below). A blocking <script> in
every page's <head> made every page wait for Stripe; rx.script (react-helmet) ran in no
fixed order.

Usage:
    stripe_card_field(
        publishable_key=PayState.publishable_key,
        client_secret=PayState.client_secret,  # set it to confirm; each secret once
        on_change=PayState.card_changed,  # {"complete": bool, "empty": bool, "error": str}
        on_result=PayState.payment_result,  # see StripeCardField.on_result
        on_ready=PayState.card_ready,
    )
"""

from __future__ import annotations

import json

import reflex as rx
from reflex.event import no_args_event_spec, passthrough_event_spec

from mioapp.settings import get_settings
from mioapp.ui.components.text import error_text


class StripeCardField(rx.Component):
    """A card Element that confirms a PaymentIntent whenever `client_secret` gets a new value."""

    # Files in assets/ are copied to .web/public and "$/" is the .web folder: this imports
    # assets/stripe_card.jsx (what rx.asset("stripe_card.jsx").importable_path gives, without
    # tying the import of this module to the current directory).
    library = "$/public/stripe_card.jsx"
    tag = "StripeCardField"

    # Where Stripe.js comes from; always the configured URL, read at compile time.
    stripe_js_url: rx.Var[str]

    # Passed to window.Stripe(); the Element is rebuilt when it changes.
    publishable_key: rx.Var[str]

    # A new non-empty value runs stripe.confirmCardPayment once. A value already present
    # when the field mounts is not confirmed (the fresh Element is empty): clear it after
    # on_result and set the next secret for the next attempt.
    client_secret: rx.Var[str]

    # Options for elements().create("card", ...), read when the Element is created.
    options: rx.Var[dict]

    # {"complete": bool, "empty": bool, "error": str} from the Element's "change" event.
    on_change: rx.EventHandler[passthrough_event_spec(dict)]

    # {"ok": bool, "payment_intent_id": str, "status": str, "error_message": str,
    #  "error_code": str, "decline_code": str} once confirmCardPayment has finished.
    # ok means Stripe.js reported no error; re-retrieve the intent server-side before
    # trusting it.
    on_result: rx.EventHandler[passthrough_event_spec(dict)]

    # The Element is mounted and ready for input.
    on_ready: rx.EventHandler[no_args_event_spec]

    def add_imports(self) -> dict:
        return {self.library: rx.ImportVar(tag="loadStripeJs")}

    def add_custom_code(self) -> list[str]:
        # Module level: runs when the page's code loads, long before the field is rendered
        # (the pay page shows it only once its state has arrived over the websocket).
        return [f"loadStripeJs({json.dumps(get_settings().stripe_js_url)});"]

    @classmethod
    def create(cls, *children, **props) -> rx.Component:
        props["stripe_js_url"] = get_settings().stripe_js_url
        # Looks like a Radix text field (each default can be overridden as a keyword); the
        # real Element is an iframe that the page's CSS cannot reach inside.
        for name, value in {
            "border": "1px solid var(--gray-7)",
            "border_radius": "var(--radius-2)",
            "padding": "9px 10px",
            "width": "100%",
            "background": "var(--color-surface)",
        }.items():
            props.setdefault(name, value)
        props["style"] = {
            "&:focus-within": {"outline": "2px solid var(--focus-8)", "outline_offset": "-1px"},
            **(props.get("style") or {}),
        }
        props.setdefault("class_name", "stripe-card-field")
        return super().create(*children, **props)


stripe_card_field = StripeCardField.create

# The pay page's path in the browser (mioapp.web.routes.PAY; its receipt takes no card).
_PAY_PAGE_PATH = r"/^\/pay\/[^/]+\/?$/"


class StripeJsHint(rx.Fragment):
    """Renders its children and nothing else; wrapped around every page by the app
    (mioapp/mioapp.py), for its module code: on the pay page, Stripe.js starts downloading
    as soon as the shared code has arrived and runs, not before.

    A `Link: rel=preload` header fetched it alongside the shared code, and on a slow phone
    connection every byte fetched before the shared code slows that code down (the emulator's
    Stripe.js, 20 KB, arrived at 0.6 s and delayed the shared code's arrival by as much). The
    card field needs Stripe.js only once the page's state has arrived over the websocket,
    after hydration, so it now downloads while the phone's CPU runs the scripts. The field
    still loads it itself (stripe_card.jsx): this is a preload hint and runs no script, and
    on every other page it does nothing.
    """

    def add_custom_code(self) -> list[str]:
        url = json.dumps(get_settings().stripe_js_url)
        return [
            f"""if (typeof document !== "undefined" &&
    {_PAY_PAGE_PATH}.test(window.location.pathname)) {{
  const stripeJsHint = document.createElement("link");
  stripeJsHint.rel = "preload";
  stripeJsHint.as = "script";
  stripeJsHint.href = {url};
  document.head.appendChild(stripeJsHint);
}}"""
        ]


stripe_js_hint = StripeJsHint.create


def card_entry(state: type[rx.State], label: str) -> rx.Component:
    """The labelled card field of a state with CardFieldMixin and `card_changed` /
    `card_confirmed` handlers, with what Stripe.js says is wrong under it."""
    return rx.fragment(
        rx.text(label, size="2", weight="medium"),
        stripe_card_field(
            publishable_key=state.publishable_key,
            client_secret=state.client_secret,
            on_change=state.card_changed,
            on_result=state.card_confirmed,
        ),
        rx.cond(state.card_message != "", error_text(state.card_message, role="alert")),
    )


class CardFieldMixin(rx.State, mixin=True):
    """What a page with the card field holds about it (the charge modal, the pay page)."""

    publishable_key: str = ""
    # Browser-visible by design: Stripe.js needs it to confirm the card; the server re-fetches
    # the intent before trusting any outcome.
    client_secret: str = ""
    card_complete: bool = False
    card_message: str = ""

    def _note_card(self, change: dict) -> None:
        """The field's `on_change` report: complete yet, and what Stripe.js says is wrong."""
        self.card_complete = bool(change.get("complete"))
        self.card_message = str(change.get("error") or "")
