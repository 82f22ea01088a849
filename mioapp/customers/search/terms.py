"""What customer search looks for: the query as read (case-folded like `search_text`), the
list's sort orders, and the conditions on `search_text` a query makes, as a range of the
name-order index or checked row by row."""

from __future__ import annotations

import re
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import col

from mioapp.customers.search import limits
from mioapp.keyset import Order
from mioapp.models import Customer

# A term that `customer_search_rest` serves: one run of the characters it splits words by.
_WORD = re.compile(r"[a-z0-9]+")


class CustomerSort(StrEnum):
    NAME = "name"
    OUTSTANDING = "outstanding"
    ACTIVITY = "activity"

    @property
    def label(self) -> str:
        return {
            CustomerSort.NAME: "Name",
            CustomerSort.OUTSTANDING: "Outstanding",
            CustomerSort.ACTIVITY: "Last activity",
        }[self]


# Name A to Z (search_text starts with the case-folded name); the largest balance first;
# the most recent activity first.
ORDERS = {
    CustomerSort.NAME: Order((col(Customer.search_text), col(Customer.id))),
    CustomerSort.OUTSTANDING: Order(
        (col(Customer.outstanding_total), col(Customer.id)), descending=True
    ),
    CustomerSort.ACTIVITY: Order(
        (col(Customer.last_activity_at), col(Customer.id)), descending=True
    ),
}


def parse_sort(value: str | None) -> CustomerSort:
    try:
        return CustomerSort(value or CustomerSort.NAME)
    except ValueError:
        return CustomerSort.NAME


def normalize(query: str) -> str:
    """What is searched for: the query case-folded like `search_text`, ends trimmed."""
    return query[: limits.MAX_QUERY].strip().casefold()


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _prefix_range(text: str) -> sa.ColumnElement[bool]:
    """search_text starting with `text` as a range of the name-order index (byte order on both
    databases for these characters); LIKE checks it exactly."""
    search_text = col(Customer.search_text)
    upper = text[:-1] + chr(min(ord(text[-1]) + 1, 0x10FFFF))
    return sa.and_(
        search_text >= text,
        search_text < upper,
        # On an expression, so PostgreSQL reads the ordered range of the name index and
        # checks each row rather than building a bitmap from the trigram index first.
        sa.func.coalesce(search_text, "").like(f"{_like_escape(text)}%", escape="\\"),
    )


def _scan_condition(text: str, sort: CustomerSort) -> sa.ColumnElement[bool]:
    """The query as a condition checked row by row while walking the list's order."""
    if len(text) < 3:
        # In name order the matches are one range of the index: read it, not the rows before.
        if sort is CustomerSort.NAME:
            return _prefix_range(text)
        return col(Customer.search_text).like(f"{_like_escape(text)}%", escape="\\")
    return col(Customer.search_text).like(f"%{_like_escape(text)}%", escape="\\")
