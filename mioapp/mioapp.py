"""Builds the Reflex app: pages and the API routes; nothing else (background work is in jobs)."""

import reflex as rx

from mioapp import api
from mioapp.pages.customer import customer_page
from mioapp.pages.customer_state import CustomerState
from mioapp.pages.customers import CustomerListState, customers_page
from mioapp.pages.login import LoginState, login_page
from mioapp.pages.outbox import OutboxState, outbox_page
from mioapp.pages.pay import PayState, pay_page, receipt_page
from mioapp.pages.settings import PaymentSettingsState, settings_page
from mioapp.settings import get_settings

app = rx.App(
    api_transformer=api.routes,
    stylesheets=["/styles.css"],
    # Stripe.js must come from Stripe (or the emulator) and run before the card element
    # mounts: a plain blocking script in <head>, read from settings at compile time.
    head_components=[rx.el.script(src=get_settings().stripe_js_url)],
)
app.add_page(
    lambda: rx.fragment(), route="/", on_load=rx.redirect("/customers"), title="MioCommerce"
)
app.add_page(
    login_page,
    route="/login",
    title="Sign in · MioCommerce",
    on_load=LoginState.redirect_if_signed_in,
)
app.add_page(
    customers_page,
    route="/customers",
    title="Customers · MioCommerce",
    on_load=CustomerListState.load,
)
app.add_page(
    customer_page,
    route="/customers/[customer_id]",
    title="Customer · MioCommerce",
    on_load=CustomerState.load_customer,
)
app.add_page(
    outbox_page,
    route="/outbox",
    title="Outbox · MioCommerce",
    on_load=OutboxState.load,
)
app.add_page(
    settings_page,
    route="/settings/payments",
    title="Payment settings · MioCommerce",
    on_load=PaymentSettingsState.load_settings,
)
app.add_page(
    pay_page,
    route="/pay/[token]",
    title=f"Pay {get_settings().business_name}",
    on_load=PayState.load_pay,
)
app.add_page(
    receipt_page,
    route="/pay/[token]/success",
    title=f"Payment received · {get_settings().business_name}",
    on_load=PayState.load_receipt,
)
