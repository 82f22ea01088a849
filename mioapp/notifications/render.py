"""Turns an email kind and its context into a subject, a plain-text part and an HTML part.

Contexts carry raw values: amounts as integer minor units with one `currency` per email,
datetimes as aware UTC datetimes; the templates format them (`money`, `datetime` filters).
`business_name` defaults to the setting. Each booking item (a dict or any object) has
`tour_name`, `starts_at`, `participants` and `amount` (the part of this email's amount
applied to it).

- `payment_link`: customer_name, bookings, amount, currency, pay_url, expires_at;
  optional message.
- `receipt`: customer_name, bookings, amount, currency, receipt_number, paid_at;
  optional card_brand, card_last4.
- `merchant_payment`: customer_name, customer_email, bookings, amount, currency,
  receipt_number, paid_at, method (e.g. "Payment link"); optional card_brand, card_last4,
  customer_url.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from mioapp.billing.money import format_money
from mioapp.formatting import brand_name, email_datetime
from mioapp.settings import get_settings

PAYMENT_LINK = "payment_link"
RECEIPT = "receipt"
MERCHANT_PAYMENT = "merchant_payment"

# Optional keys per kind; every other key a template uses is required (StrictUndefined).
_DEFAULTS: dict[str, dict[str, Any]] = {
    PAYMENT_LINK: {"message": ""},
    RECEIPT: {"card_brand": None, "card_last4": None},
    MERCHANT_PAYMENT: {"card_brand": None, "card_last4": None, "customer_url": None},
}
KINDS = frozenset(_DEFAULTS)

# Unquoted family names: a quote inside a style attribute would be escaped by autoescape.
FONT_STACK = "-apple-system,BlinkMacSystemFont,Segoe UI,Roboto,Helvetica Neue,Arial,sans-serif"


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def _build_environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("mioapp.notifications", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["money"] = format_money
    environment.filters["datetime"] = email_datetime
    environment.filters["brand_name"] = brand_name
    environment.globals["font"] = FONT_STACK
    return environment


_environment = _build_environment()


def render_email(kind: str, context: Mapping[str, Any]) -> RenderedEmail:
    """Render the three parts of `kind`; a missing required context key raises."""
    if kind not in KINDS:
        raise ValueError(f"Unknown email kind {kind!r}")
    values = {"business_name": get_settings().business_name, **_DEFAULTS[kind], **context}
    raw_subject = _environment.get_template(f"{kind}.subject.txt").render(values)
    # A header may not span lines: collapse any newline a customer name could bring in.
    subject = " ".join(raw_subject.split())
    text = _environment.get_template(f"{kind}.txt").render(values)
    html = _environment.get_template(f"{kind}.html").render({**values, "subject": subject})
    return RenderedEmail(subject=subject, text=text, html=html)
