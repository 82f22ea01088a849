"""Builds the Reflex app: pages, the API routes and the per-process change notices; nothing else."""

import reflex as rx

from mioapp.ui.components.stripe_card import stripe_js_hint
from mioapp.ui.components.toaster import lazy_toaster
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
    # On the pay page, Stripe.js is fetched once the shared code has arrived (see
    # StripeJsHint); on every other page this wrap is a bare fragment.
    extra_app_wraps={(1, "StripeJsHint"): lambda stateful: stripe_js_hint()},
    # sonner loads with the first toast, not with every page (the pay page shows none).
    toaster=lazy_toaster(),
)
app.register_lifespan_task(change_notices)

# Every page: (component, route, title, on_load). The pay pages are titled from the business
# profile, which Settings can change after the build.
PAGES = [
    (lambda: rx.fragment(), routes.HOME, "MioCommerce", rx.redirect(routes.CUSTOMERS)),
    (login_page, routes.SIGN_IN, "Sign in · MioCommerce", LoginState.load),
    (customers_page, routes.CUSTOMERS, "Customers · MioCommerce", CustomerListState.load),
    (
        customer_page,
        routes.CUSTOMER,
        CustomerState.page_title,
        [CustomerState.load_customer, ChargeState.close_on_navigation],
    ),
    (payments_page, routes.PAYMENTS, "Payments · MioCommerce", PaymentsState.load),
    (outbox_page, routes.OUTBOX, "Outbox · MioCommerce", OutboxState.load),
    (
        settings_page,
        routes.PAYMENT_SETTINGS,
        "Payment settings · MioCommerce",
        PaymentSettingsState.load_settings,
    ),
    (
        business_settings_page,
        routes.BUSINESS_SETTINGS,
        "Business settings · MioCommerce",
        BusinessSettingsState.load_business,
    ),
    (pay_page, routes.PAY, PayState.pay_title, PayState.load_pay),
    (receipt_page, routes.PAY_SUCCESS, PayState.receipt_title, PayState.load_receipt),
    (not_found_page, routes.NOT_FOUND, "Page not found · MioCommerce", None),
]
for component, route, title, on_load in PAGES:
    app.add_page(component, route=route, title=title, on_load=on_load)
