"""Turns an email kind and its context into a subject, a plain-text part and an HTML part.

Contexts carry raw values: amounts as integer minor units with one `currency` per email,
datetimes as aware UTC datetimes; the templates format them for the business profile given
to `render_email` (`money` in its locale, `datetime` in its time zone, the zone named).
The profile also gives `business_name` and the contact details customer emails end with
(`business_email`, `business_phone`). `bookings` comes from `booking_lines`: each has
`reference`, `tour_name`, `starts_at`, `participants`, `total`, `paid_before`, `amount`
(this email's part), `remaining` and `is_deposit`.

- `payment_link`: customer_name, bookings, amount, currency, pay_url, expires_at;
  optional message, description.
- `receipt`: customer_name, bookings, amount, currency, receipt_number, paid_at;
  optional card_brand, card_last4, description.
- `merchant_payment`: customer_name, customer_email, bookings, amount, currency,
  receipt_number, paid_at, method (e.g. "Payment link"); optional card_brand, card_last4,
  customer_url, description.

A secret in the context (the token of a `pay_url`) is not part of the stored email: the
rendered parts carry `SECRET_SLOT` in its place, `with_secret` puts it back for sending
and `masked` shows the slot as dots in a preview.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context

from mioapp.billing.balances import BookingShare
from mioapp.billing.money import format_money
from mioapp.business import BusinessProfile
from mioapp.formatting import brand_name, when_in_zone

PAYMENT_LINK = "payment_link"
RECEIPT = "receipt"
MERCHANT_PAYMENT = "merchant_payment"

# Optional keys per kind; every other key a template uses is required (StrictUndefined).
_DEFAULTS: dict[str, dict[str, Any]] = {
    PAYMENT_LINK: {"message": "", "description": ""},
    RECEIPT: {"card_brand": None, "card_last4": None, "description": ""},
    MERCHANT_PAYMENT: {
        "card_brand": None,
        "card_last4": None,
        "customer_url": None,
        "description": "",
    },
}
KINDS = frozenset(_DEFAULTS)
# Sent to customers: their replies go to the business (Reply-To), not to MAIL_FROM.
CUSTOMER_KINDS = frozenset({PAYMENT_LINK, RECEIPT})

SECRET_SLOT = "{mio-secret}"
MASK = "••••••"
# URL-safe, so it reads the same escaped or not: replacing it verbatim removes every copy.
_SECRET = re.compile(r"[A-Za-z0-9_-]{20,}")

# Unquoted family names: a quote inside a style attribute would be escaped by autoescape.
FONT_STACK = "-apple-system,BlinkMacSystemFont,Segoe UI,Roboto,Helvetica Neue,Arial,sans-serif"


def booking_lines(shares: Iterable[BookingShare]) -> list[dict[str, Any]]:
    """The `bookings` of an email context from a payment's breakdown by booking."""
    return [
        {
            "reference": share.booking.reference,
            "tour_name": share.booking.tour_name,
            "starts_at": share.booking.starts_at,
            "participants": share.booking.participants,
            "total": share.total,
            "paid_before": share.paid_before,
            "amount": share.amount,
            "remaining": share.remaining,
            "is_deposit": share.is_deposit,
        }
        for share in shares
    ]


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


# Babel's formatting is slow next to the rest of a render, and one email quotes the same
# few amounts and dates several times (a payment's two emails, each in text and HTML): the
# answers of these pure functions are kept.
_format_money = lru_cache(maxsize=4096)(format_money)
_when_in_zone = lru_cache(maxsize=4096)(when_in_zone)


@pass_context
def _money(context: Context, amount: int, currency: str) -> str:
    return _format_money(amount, currency, context["profile"].locale)


@pass_context
def _datetime(context: Context, value) -> str:
    """In the business's zone, named: a customer may read the email anywhere."""
    return _when_in_zone(value, context["profile"])


def _build_environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("mioapp.notifications", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # Templates ship with the code: no file checks on every render.
        auto_reload=False,
    )
    environment.filters["money"] = _money
    environment.filters["datetime"] = _datetime
    environment.filters["brand_name"] = brand_name
    # A tel: link dials digits and a leading plus; spaces and brackets are for reading.
    environment.filters["tel"] = lambda phone: re.sub(r"[^0-9+]", "", phone)
    environment.globals["font"] = FONT_STACK
    return environment


_environment = _build_environment()


def render_email(
    kind: str,
    context: Mapping[str, Any],
    *,
    profile: BusinessProfile,
    secret: str | None = None,
) -> RenderedEmail:
    """Render the three parts of `kind` for the business `profile`; a missing required
    context key raises.

    With `secret` (a value the context contains, such as a pay URL's token), every copy of
    it in the text and HTML parts is replaced by `SECRET_SLOT`.
    """
    if kind not in KINDS:
        raise ValueError(f"Unknown email kind {kind!r}")
    if secret is not None and not _SECRET.fullmatch(secret):
        raise ValueError("A secret must be at least 20 URL-safe characters")
    values = {
        "profile": profile,
        "business_name": profile.name,
        "business_email": profile.email,
        "business_phone": profile.phone,
        **_DEFAULTS[kind],
        **context,
    }
    raw_subject = _environment.get_template(f"{kind}.subject.txt").render(values)
    # A header may not span lines: collapse any newline a customer name could bring in.
    subject = " ".join(raw_subject.split())
    text = _environment.get_template(f"{kind}.txt").render(values)
    html = _environment.get_template(f"{kind}.html").render({**values, "subject": subject})
    if secret is not None:
        if secret in subject:
            raise ValueError("A secret cannot go in a subject: it is stored and shown as is")
        text, html = text.replace(secret, SECRET_SLOT), html.replace(secret, SECRET_SLOT)
    return RenderedEmail(subject=subject, text=text, html=html)


def with_secret(part: str, secret: str) -> str:
    """A stored part as it is sent: the secret back in its slot."""
    return part.replace(SECRET_SLOT, secret)


def masked(part: str) -> str:
    """A stored part as a preview shows it: the slot as dots (`https://host/pay/••••••`)."""
    return part.replace(SECRET_SLOT, MASK)
