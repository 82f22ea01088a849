"""The Payments page's CSV export: one line per payment or refund the filter selects, amounts
in major units with their currency, dates on the business's clock."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable

from mioapp.billing.money import to_decimal
from mioapp.billing.transactions import Transaction, TransactionKind
from mioapp.business import BusinessProfile
from mioapp.formatting import local_time
from mioapp.notifications.receipts import receipt_number
from mioapp.ui.status import payment_display_status, payment_method_label

HEADER = [
    "Date",
    "Time zone",
    "Type",
    "Status",
    "Amount",
    "Currency",
    "Customer",
    "Customer email",
    "Method",
    "Receipt number",
    "Bookings",
    "Stripe ID",
    "Description",
]

# A cell a spreadsheet would run as a formula (OWASP's list: = + - @, tab and carriage
# return); such cells get a leading apostrophe. Plain numbers (a refund's -12.50) stay numbers.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def safe_cell(value: str) -> str:
    if value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def _status(t: Transaction) -> str:
    if t.refund is not None:
        return t.refund.status.value
    return payment_display_status(t.payment, t.refunded).value


def row_cells(t: Transaction, profile: BusinessProfile) -> list[str]:
    """A transaction as the export writes it; refunds are negative, money going back."""
    amount = to_decimal(t.amount, t.currency)
    if t.kind == TransactionKind.REFUND:
        amount = -amount
    refund = t.refund
    cells = [
        local_time(t.at, profile).strftime("%Y-%m-%d %H:%M:%S"),
        profile.time_zone,
        t.kind.value,
        _status(t),
        f"{amount:f}",
        t.currency.upper(),
        t.customer_name,
        t.customer_email,
        payment_method_label(t.payment),
        receipt_number(t.payment),
        " ".join(t.bookings),
        (refund.stripe_refund_id if refund else t.payment.stripe_payment_intent_id) or "",
        refund.reason if refund else t.payment.description,
    ]
    return [safe_cell(cell) for cell in cells]


def csv_text(rows: Iterable[list[str]]) -> str:
    """Lines of CSV (RFC 4180, CRLF) for `rows`."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()
