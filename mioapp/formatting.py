"""How dates, card brands and payment methods read to people, on every page and in emails.

Money is formatted by `mioapp.billing.money`; this module holds everything else that is
shown the same way in the dashboard, on the pay page and in emails.
"""

from __future__ import annotations

from datetime import UTC, datetime

BRAND_NAMES = {
    "amex": "American Express",
    "diners": "Diners Club",
    "discover": "Discover",
    "jcb": "JCB",
    "mastercard": "Mastercard",
    "unionpay": "UnionPay",
    "visa": "Visa",
}


def brand_name(brand: str | None) -> str:
    """Stripe's brand code as people write it: `amex` -> `American Express`."""
    if not brand:
        return "Card"
    return BRAND_NAMES.get(brand.lower(), brand.title())


def card_label(brand: str | None, last4: str | None) -> str:
    """`Visa •••• 4242`; just the brand when the last four digits are unknown."""
    return f"{brand_name(brand)} •••• {last4}" if last4 else brand_name(brand)


def when(value: datetime) -> str:
    """A date and time on the dashboard and the pay page: `Jun 14, 2025 · 9:30 AM`."""
    return value.strftime("%b %-d, %Y · %-I:%M %p")


def email_datetime(value: datetime) -> str:
    """A date and time in an email: `Sat 14 Jun 2025, 09:30` (UTC)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%a %d %b %Y, %H:%M")
