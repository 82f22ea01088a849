"""Every page's route and the URLs built from them: one place to change a path."""

from __future__ import annotations

from mioapp.settings import get_settings

HOME = "/"
SIGN_IN = "/login"
CUSTOMERS = "/customers"
CUSTOMER = "/customers/[customer_id]"
OUTBOX = "/outbox"
PAYMENTS = "/payments"
PAYMENT_SETTINGS = "/settings/payments"
BUSINESS_SETTINGS = "/settings/business"
PAY = "/pay/[token]"
PAY_SUCCESS = "/pay/[token]/success"
# Reflex's name for the page every unknown address gets.
NOT_FOUND = "404"
# Plain HTTP form posts (Starlette), not pages: they set and clear the HttpOnly session cookie.
SIGN_IN_POST = "/api/auth/sign-in"
SIGN_OUT_POST = "/api/auth/sign-out"
# The Payments page's CSV of its filtered rows (same query parameters as the page).
PAYMENTS_EXPORT = "/api/payments/export.csv"
# The customer page's query parameter naming the payment to scroll to and highlight.
HIGHLIGHT = "highlight"


def customer_path(customer_id: int | str) -> str:
    return f"{CUSTOMERS}/{customer_id}"


def customer_highlight_path(customer_id: int, payment_id: int) -> str:
    """The customer's page, scrolled to one of their payments (a refund shows on its payment)."""
    return f"{customer_path(customer_id)}?{HIGHLIGHT}={payment_id}"


def pay_path(token: str) -> str:
    return f"/pay/{token}"


def pay_success_path(token: str) -> str:
    return f"/pay/{token}/success"


def absolute(path: str) -> str:
    """`path` on the public origin (APP_BASE_URL), for links in emails."""
    return f"{get_settings().app_base_url.rstrip('/')}{path}"


def pay_url(token: str) -> str:
    return absolute(pay_path(token))


def customer_url(customer_id: int) -> str:
    return absolute(customer_path(customer_id))
