"""Builds the Reflex app: pages, the API routes and the per-process change notices; nothing else."""

import reflex as rx

from mioapp.ui.live import change_notices
from mioapp.ui.pages.charge.state import ChargeState
from mioapp.ui.pages.customer.state import CustomerState
from mioapp.ui.pages.customer.view import customer_page
from mioapp.ui.pages.customers.state import CustomerListState
from mioapp.ui.pages.customers.view import customers_page
from mioapp.ui.pages.login.state import LoginState
from mioapp.ui.pages.login.view import login_page
from mioapp.ui.pages.not_found.view import not_found_page
from mioapp.ui.pages.outbox.state import OutboxState
from mioapp.ui.pages.outbox.view import outbox_page
from mioapp.ui.pages.pay.receipt import receipt_page
from mioapp.ui.pages.pay.state import PayState
from mioapp.ui.pages.pay.view import pay_page
from mioapp.ui.pages.payments.state import PaymentsState
from mioapp.ui.pages.payments.view import payments_page
from mioapp.ui.pages.settings.state import BusinessSettingsState, PaymentSettingsState
from mioapp.ui.pages.settings.view import business_settings_page, settings_page
from mioapp.web import api, routes

app = rx.App(
    api_transformer=api.routes,
    stylesheets=["/styles.css"],
    # Stripe.js is not here: the card field loads it, on the pages that take a card. Named
    # icons, so browsers stop asking for a missing /favicon.ico on every page.
    head_components=[
        rx.el.link(rel="icon", href="/favicon.ico", sizes="48x48"),
        rx.el.link(rel="icon", href="/favicon.svg", type="image/svg+xml"),
    ],
)
app.register_lifespan_task(change_notices)
app.add_page(
    lambda: rx.fragment(),
    route=routes.HOME,
    on_load=rx.redirect(routes.CUSTOMERS),
    title="MioCommerce",
)
app.add_page(
    login_page,
    route=routes.SIGN_IN,
    title="Sign in · MioCommerce",
    on_load=LoginState.load,
)
app.add_page(
    customers_page,
    route=routes.CUSTOMERS,
    title="Customers · MioCommerce",
    on_load=CustomerListState.load,
)
app.add_page(
    customer_page,
    route=routes.CUSTOMER,
    title=CustomerState.page_title,
    on_load=[CustomerState.load_customer, ChargeState.close_on_navigation],
)
app.add_page(
    payments_page,
    route=routes.PAYMENTS,
    title="Payments · MioCommerce",
    on_load=PaymentsState.load,
)
app.add_page(
    outbox_page,
    route=routes.OUTBOX,
    title="Outbox · MioCommerce",
    on_load=OutboxState.load,
)
app.add_page(
    settings_page,
    route=routes.PAYMENT_SETTINGS,
    title="Payment settings · MioCommerce",
    on_load=PaymentSettingsState.load_settings,
)
app.add_page(
    business_settings_page,
    route=routes.BUSINESS_SETTINGS,
    title="Business settings · MioCommerce",
    on_load=BusinessSettingsState.load_business,
)
# The business is named from its profile, which Settings can change after the build.
app.add_page(
    pay_page,
    route=routes.PAY,
    title=PayState.pay_title,
    on_load=PayState.load_pay,
)
app.add_page(
    receipt_page,
    route=routes.PAY_SUCCESS,
    title=PayState.receipt_title,
    on_load=PayState.load_receipt,
)
app.add_page(not_found_page, route=routes.NOT_FOUND, title="Page not found · MioCommerce")
