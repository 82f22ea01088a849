"""How a search text on the Payments page is read: a receipt number, a Stripe id, a booking
reference, or part of a customer's name, email or phone."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Session, col, select

from mioapp.billing.transactions.filters import MAX_SEARCH
from mioapp.customers.search import containing, normalize
from mioapp.models import Booking, Customer


class SearchKind(StrEnum):
    """What a search text was read as."""

    NONE = ""
    CUSTOMER = "customer"  # part of a name, email or phone
    RECEIPT = "receipt"  # MIO-000123
    BOOKING = "booking"  # a booking's reference, exactly
    PAYMENT_INTENT = "payment_intent"  # pi_...
    STRIPE_REFUND = "stripe_refund"  # re_...


_RECEIPT = re.compile(r"MIO-?0*(\d{1,12})", re.IGNORECASE)
_STRIPE_ID = re.compile(r"[A-Za-z0-9_]+")
# What a booking reference can look like (BK-100123): worth one look-up by its unique index.
_REFERENCE = re.compile(r"(?=.*\d)[A-Za-z0-9-]{3,32}")

# Up to this many matching customers are looked up once (through customer search's index) and
# their payments read by the (customer, time) index, or in time order with the id list as a
# hashed filter, whichever the planner finds cheaper: at 1,000 customers of 100,000 the page
# came after 2,500 rows in 0.6 ms, where checking each row's customer took 32 ms (PostgreSQL,
# bench_payments). A search matching more is so common that reading rows in time order and
# checking each one's customer fills a page within a few dozen rows.
CUSTOMER_IDS_LISTED = 1000


@dataclass(frozen=True)
class Search:
    kind: SearchKind
    text: str = ""
    number: int = 0
    customer_ids: tuple[int, ...] | None = None


def classify_search(text: str) -> Search:
    """Read a search text as a receipt number, a Stripe id, a booking reference (when one
    exists, checked by the caller) or else part of a customer's name, email or phone."""
    text = text.strip()[:MAX_SEARCH]
    if not text:
        return Search(SearchKind.NONE)
    receipt = _RECEIPT.fullmatch(text)
    if receipt:
        return Search(SearchKind.RECEIPT, text, int(receipt[1]))
    if _STRIPE_ID.fullmatch(text):
        if text.startswith("pi_"):
            return Search(SearchKind.PAYMENT_INTENT, text)
        if text.startswith("re_"):
            return Search(SearchKind.STRIPE_REFUND, text)
    return Search(SearchKind.CUSTOMER, text)


def resolve_search(session: Session, text: str) -> Search:
    """`classify_search`, then a customer search made exact where the database can: a
    booking reference that exists, a whole email address, or a few matching customers."""
    search = classify_search(text)
    if search.kind != SearchKind.CUSTOMER:
        return search
    if _REFERENCE.fullmatch(search.text):
        booking_id = session.exec(
            select(Booking.id).where(Booking.reference == search.text.upper())
        ).first()
        if booking_id is not None:
            return Search(SearchKind.BOOKING, search.text, booking_id)
    if "@" in search.text:
        # A whole email address is found by its index, without reading every customer.
        exact = {search.text, search.text.lower()}
        ids = session.exec(select(Customer.id).where(col(Customer.email).in_(exact))).all()
        if ids:
            return replace(search, customer_ids=tuple(ids))
    if len(normalize(search.text)) >= 3:
        # Customer search's substring index finds them without reading every customer.
        found = containing(session, search.text, CUSTOMER_IDS_LISTED)
        return search if found is None else replace(search, customer_ids=tuple(found))
    # One or two characters: shorter than the index's trigrams, and so common that the
    # first CUSTOMER_IDS_LISTED matches come after a few hundred rows.
    ids = session.exec(
        select(Customer.id).where(matches_customer(search.text)).limit(CUSTOMER_IDS_LISTED + 1)
    ).all()
    if len(ids) <= CUSTOMER_IDS_LISTED:
        return replace(search, customer_ids=tuple(ids))
    return search


def matches_customer(text: str) -> sa.ColumnElement[bool]:
    """Part of a customer's name, email or phone (as customer search reads it)."""
    folded = text.casefold()
    escaped = folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return col(Customer.search_text).like(f"%{escaped}%", escape="\\")
